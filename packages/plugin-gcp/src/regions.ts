/**
 * Lists the regions Cloud Run serves with the Locations mixin of the Cloud Run
 * Admin API (google.cloud.location.Locations/ListLocations on
 * `projects/{project}`, served by run.googleapis.com), so the list comes from
 * Google, not from a table compiled into the plugin.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { RegionSchema } from "@flotilla/protocol";
import type { GcpClients } from "./clients.js";
import { translateGcpError } from "./errors.js";

/** The project's Cloud Run regions, sorted by id, every page read. */
export async function listGcpRegions(clients: GcpClients): Promise<MessageInitShape<typeof RegionSchema>[]> {
  try {
    const jobs = await clients.jobs();
    const regions: MessageInitShape<typeof RegionSchema>[] = [];
    // autoPaginate: false only silences google-gax's AutopaginateTrueWarning; async iteration reads page by page anyway.
    for await (const location of jobs.listLocationsAsync(
      { name: `projects/${clients.project}` },
      { autoPaginate: false },
    )) {
      const id = location.locationId ?? location.name?.split("/").at(-1);
      if (!id) continue;
      // Every location the Cloud Run API lists is one the project can use.
      regions.push({ id, displayName: location.displayName || id, available: true });
    }
    return regions.sort((a, b) => (a.id as string).localeCompare(b.id as string));
  } catch (err) {
    throw translateGcpError(err, "Cloud Run ListLocations");
  }
}
