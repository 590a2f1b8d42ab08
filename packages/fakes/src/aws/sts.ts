/**
 * The STS part of the AWS fake: AssumeRole over the AWS Query protocol
 * (form-encoded POST, XML response), so a plugin configured with a role to
 * assume gets temporary keys from the fake and signs its next calls with
 * them.
 */
import { createHash } from "node:crypto";
import type { FakeClock } from "./clock.js";

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** One AssumeRole call as the fake saw it. */
export interface AssumedRole {
  /** The role ARN asked for. */
  roleArn: string;
  /** The session name asked for. */
  sessionName: string;
  /** The external id, if any. */
  externalId?: string;
  /** The temporary access key id the fake handed out. */
  accessKeyId: string;
}

/** The in-memory STS. */
export class FakeSts {
  /** Every AssumeRole call, oldest first. */
  readonly assumed: AssumedRole[] = [];

  constructor(private readonly clock: FakeClock) {}

  /** Answers one AWS Query action with an XML body; undefined when the action is not an STS one. */
  handle(action: string, params: URLSearchParams): string | undefined {
    if (action !== "AssumeRole") return undefined;
    const roleArn = params.get("RoleArn") ?? "";
    const sessionName = params.get("RoleSessionName") ?? "";
    const externalId = params.get("ExternalId") ?? undefined;
    const accessKeyId = `ASIA${createHash("sha256").update(`${roleArn}/${this.assumed.length}`).digest("hex").slice(0, 16).toUpperCase()}`;
    this.assumed.push({ roleArn, sessionName, accessKeyId, ...(externalId ? { externalId } : {}) });
    const expiration = new Date(this.clock.now() + 3600_000).toISOString();
    const roleName = roleArn.slice(roleArn.lastIndexOf("/") + 1);
    const [, partition, , , account] = roleArn.split(":");
    // "arn:aws:sts::<account>:assumed-role/<role-name>/<role-session-name>" (STS API reference, AssumeRole,
    // AssumedRoleUser.Arn); the role's path is not part of it (hashicorp/terraform-provider-aws#19957).
    const assumedRoleArn = `arn:${partition}:sts::${account}:assumed-role/${roleName}/${sessionName}`;
    return `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>${accessKeyId}</AccessKeyId><SecretAccessKey>fake-secret</SecretAccessKey><SessionToken>fake-session-token</SessionToken><Expiration>${expiration}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROAFAKE:${escapeXml(sessionName)}</AssumedRoleId><Arn>${escapeXml(assumedRoleArn)}</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>fake-request</RequestId></ResponseMetadata></AssumeRoleResponse>`;
  }
}
