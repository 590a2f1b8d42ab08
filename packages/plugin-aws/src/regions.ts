/**
 * Lists regions with EC2 DescribeRegions (all regions, including those the
 * account has not opted into, reported as unavailable), so the list comes
 * from AWS, not from a table compiled into the plugin.
 */
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { RegionSchema } from "@flotilla/protocol";
import { translateAwsError } from "./errors.js";

/** The account's regions, sorted by id. */
export async function listAwsRegions(ec2: EC2Client): Promise<MessageInitShape<typeof RegionSchema>[]> {
  const { DescribeRegionsCommand } = await import("@aws-sdk/client-ec2");
  try {
    const out = await ec2.send(new DescribeRegionsCommand({ AllRegions: true }));
    return (out.Regions ?? [])
      .filter((r) => r.RegionName)
      .map((r) => ({
        id: r.RegionName as string,
        // EC2 reports no display names; the id is what AWS users recognise.
        displayName: r.RegionName as string,
        available: r.OptInStatus !== "not-opted-in",
      }))
      .sort((a, b) => a.id.localeCompare(b.id));
  } catch (err) {
    throw translateAwsError(err, "EC2 DescribeRegions");
  }
}
