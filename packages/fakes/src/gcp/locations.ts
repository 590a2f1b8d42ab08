/**
 * The regions the GCP fake's Locations mixin (google.cloud.location.Locations,
 * served beside Cloud Run's services: `@google-cloud/run`'s JobsClient builds a
 * `LocationsClient` on the same channel) answers with. A location is named
 * `projects/P/locations/REGION`, carries the region id as `locationId`, a
 * human name as `displayName` and the region in the `cloud.googleapis.com/region`
 * label, as Google's location resources do (locations.proto).
 */

/** One region the fake knows. */
export interface FakeLocation {
  /** The region id, e.g. "us-central1". */
  locationId: string;
  /** A human name, e.g. "Iowa". */
  displayName: string;
}

/** A representative set of Cloud Run regions (tests may replace it). */
export const defaultFakeLocations: readonly FakeLocation[] = [
  { locationId: "asia-northeast1", displayName: "Tokyo" },
  { locationId: "australia-southeast1", displayName: "Sydney" },
  { locationId: "europe-west1", displayName: "Belgium" },
  { locationId: "europe-west4", displayName: "Netherlands" },
  { locationId: "us-central1", displayName: "Iowa" },
  { locationId: "us-east1", displayName: "South Carolina" },
  { locationId: "us-east4", displayName: "Northern Virginia" },
  { locationId: "us-west1", displayName: "Oregon" },
];
