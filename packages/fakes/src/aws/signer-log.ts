/**
 * Records which access key signed each call (from the SigV4 Authorization
 * header), so tests can check that a plugin used the credentials it was
 * configured with: static keys, a profile's keys, or an assumed role's.
 */
export class SignerLog {
  private readonly keys = new Map<string, string[]>();

  /** Records the access key id of one call of `operation` (undefined for an unsigned call). */
  record(operation: string, authorization: string | undefined): void {
    const accessKeyId = /Credential=([^/]+)\//.exec(authorization ?? "")?.[1] ?? "(unsigned)";
    const list = this.keys.get(operation) ?? [];
    list.push(accessKeyId);
    this.keys.set(operation, list);
  }

  /** The access key ids that signed calls of `operation`, oldest first. */
  accessKeyIds(operation: string): readonly string[] {
    return this.keys.get(operation) ?? [];
  }
}
