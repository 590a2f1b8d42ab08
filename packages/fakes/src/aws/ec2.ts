/**
 * The EC2 part of the AWS fake: DescribeRegions over the EC2 Query protocol
 * (form-encoded POST in, XML out), which is what @aws-sdk/client-ec2 speaks.
 */

/** A region the fake reports, with EC2's opt-in status. */
export interface FakeRegion {
  /** e.g. "eu-west-1". */
  regionName: string;
  /** "opt-in-not-required", "opted-in" or "not-opted-in". */
  optInStatus: "opt-in-not-required" | "opted-in" | "not-opted-in";
}

/** The regions the fake starts with: a few defaults and one the account has not opted into. */
export const defaultFakeRegions: readonly FakeRegion[] = [
  { regionName: "us-east-1", optInStatus: "opt-in-not-required" },
  { regionName: "eu-west-1", optInStatus: "opt-in-not-required" },
  { regionName: "eu-central-1", optInStatus: "opt-in-not-required" },
  { regionName: "ap-southeast-2", optInStatus: "opt-in-not-required" },
  { regionName: "af-south-1", optInStatus: "not-opted-in" },
];

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The in-memory EC2 region list. */
export class FakeEc2 {
  /** The regions DescribeRegions reports; tests may replace it. */
  regions: FakeRegion[] = [...defaultFakeRegions];

  /** Answers one EC2 Query action with an XML body; undefined when the action is not simulated. */
  handle(action: string, params: URLSearchParams): string | undefined {
    if (action !== "DescribeRegions") return undefined;
    const all = params.get("AllRegions") === "true";
    const items = this.regions
      .filter((r) => all || r.optInStatus !== "not-opted-in")
      .map(
        (r) =>
          `<item><regionName>${escapeXml(r.regionName)}</regionName><regionEndpoint>ec2.${escapeXml(r.regionName)}.amazonaws.com</regionEndpoint><optInStatus>${r.optInStatus}</optInStatus></item>`,
      )
      .join("");
    return `<?xml version="1.0" encoding="UTF-8"?>\n<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>fake-request</requestId><regionInfo>${items}</regionInfo></DescribeRegionsResponse>`;
  }

  /** The EC2 Query error body for a code and message. */
  static errorXml(code: string, message: string): string {
    return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>fake-request</RequestID></Response>`;
  }
}
