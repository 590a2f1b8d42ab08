/**
 * The Cloud Run Admin API v2 Services part of the GCP fake: CreateService,
 * GetService, ListServices, UpdateService and DeleteService on
 * `projects/P/locations/L/services/S`, each change a long-running operation,
 * each service reconciling towards its latest revision for a while before it
 * is ready (or failed). Like the jobs part, state is computed from the fake
 * clock on every request; how each new revision fares is scripted by the test
 * ({@link FakeCloudRunServices.setRevisionScript}).
 *
 * Sources, cited beside each rule below: service.proto, revision_template.proto,
 * vendor_settings.proto and condition.proto of the v2 API as shipped in
 * `@google-cloud/run` (`build/protos/google/cloud/run/v2/`, the same text as
 * https://cloud.google.com/run/docs/reference/rpc/google.cloud.run.v2), Google's
 * API Improvement Proposals (https://google.aip.dev) for the generic rules, the
 * Knative serving error-condition spec that condition.proto points to, and
 * answers of the real service quoted in public issue threads.
 */
import { createHash, randomUUID } from "node:crypto";
import type { FakeClock } from "../aws/clock.js";
import { GcpApiError, GrpcStatus } from "./api-error.js";
import type { OperationState, WireOperation } from "./operations.js";
import type { FakeCloudRun } from "./run.js";
import { toTimestamp } from "./wire-values.js";

type Json = Record<string, unknown>;

/** How one new revision of a service fares, set by the test through {@link FakeCloudRunServices.setRevisionScript}. */
export interface RevisionScript {
  /** Time from the change until the revision is ready (or has failed), ms. Default: the fake's reconcile time. */
  readyMs?: number;
  /**
   * The revision never becomes ready: the reason is one of condition.proto's
   * `CommonReason`s (CONTAINER_MISSING for an image that cannot be pulled,
   * CONTAINER_PERMISSION_DENIED, SECRETS_ACCESS_CHECK_FAILED, ...) or
   * `RevisionReason`s (HEALTH_CHECK_CONTAINER_ERROR for a container that does
   * not start listening), and the message Cloud Run would give.
   */
  failure?: { reason?: string; revisionReason?: string; message: string };
}

/** What a revision script sees about the revision being created. */
export interface RevisionScriptContext {
  /** The service id (last segment of the service name). */
  serviceId: string;
  /** The revision's name (short). */
  revision: string;
  /** The first container's image. */
  image: string;
  /** The service's generation this revision comes from. */
  generation: number;
}

/**
 * "The unique identifier for the Service. It must begin with letter, and
 * cannot end with hyphen; must contain fewer than 50 characters." (service.proto,
 * CreateServiceRequest.service_id); lowercase letters, digits and hyphens as
 * every Cloud Run resource name (RFC 1035).
 */
const serviceIdPattern = /^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$/;
/** RevisionScaling.max_instance_count: "When unspecified, the field is set to the server default value of 100." */
const defaultRevisionMaxInstances = 100;
/** User-settable fields of Service (service.proto: every field not OUTPUT_ONLY nor IDENTIFIER). */
const settableFields = [
  "description",
  "labels",
  "annotations",
  "client",
  "clientVersion",
  "ingress",
  "launchStage",
  "binaryAuthorization",
  "template",
  "traffic",
  "scaling",
  "invokerIamDisabled",
  "defaultUriDisabled",
  "iapEnabled",
  "multiRegionSettings",
  "customAudiences",
  "buildConfig",
] as const;
/** service.proto: labels and annotations in these namespaces "will be rejected" (the same list as job.proto's). */
const reservedNamespaces = [
  "run.googleapis.com",
  "cloud.googleapis.com",
  "serving.knative.dev",
  "autoscaling.knative.dev",
];

interface StoredRevision {
  /** Short name, e.g. "hello-00002-x7k". */
  id: string;
  generation: number;
  createdAt: number;
  /** When the revision became ready or failed. */
  settlesAt: number;
  failure?: RevisionScript["failure"];
}

interface StoredService {
  name: string;
  id: string;
  uid: string;
  project: string;
  location: string;
  createdAt: number;
  updatedAt: number;
  generation: number;
  /** The settable fields as last written. */
  spec: Json;
  revisions: StoredRevision[];
  etag: string;
}

/** The Cloud Run Services simulation; served by the same gRPC server as the jobs part. */
export class FakeCloudRunServices {
  private readonly services = new Map<string, StoredService>();
  private script: (context: RevisionScriptContext) => RevisionScript = () => ({});
  private reconcileMs = 20;

  constructor(
    private readonly clock: FakeClock,
    /** The jobs part, for the parent rules, paging and operations both share. */
    private readonly run: FakeCloudRun,
  ) {}

  /** Sets how every revision created from now on fares (a function of the revision). */
  setRevisionScript(script: RevisionScript | ((context: RevisionScriptContext) => RevisionScript)): void {
    this.script = typeof script === "function" ? script : () => script;
  }

  /** Time a new revision takes to become ready when its script gives none, ms (default 20). */
  setReconcileMs(ms: number): void {
    this.reconcileMs = ms;
  }

  /** Names of the services that exist, for assertions. */
  serviceNames(): string[] {
    return [...this.services.keys()];
  }

  /**
   * CreateService: a long-running operation that finishes when the first
   * revision is ready, or with an error when it failed. The service is
   * readable at once, reconciling (service.proto, `reconciling`: "When a new
   * Service is created, or an existing one is updated, Cloud Run will
   * asynchronously perform all necessary steps to bring the Service to the
   * desired serving state").
   */
  createService(request: Json): WireOperation {
    const { project, location, parent } = this.run.parseParent(String(request.parent ?? ""));
    const serviceId = String(request.serviceId ?? "");
    if (!serviceIdPattern.test(serviceId))
      throw GcpApiError.invalid(
        `Invalid service_id "${serviceId}": it must begin with a letter, contain only lowercase letters, digits and hyphens, not end with a hyphen, and be fewer than 50 characters.`,
      );
    const body = (request.service ?? {}) as Json;
    this.checkSpec(body, "CreateServiceRequest.service");
    const name = `${parent}/services/${serviceId}`;
    // AIP-133 (Standard methods: Create): "If the resource already exists, the method must fail with ALREADY_EXISTS".
    if (this.services.has(name))
      throw new GcpApiError(GrpcStatus.ALREADY_EXISTS, `Resource '${serviceId}' already exists.`);
    const now = this.clock.now();
    const service: StoredService = {
      name,
      id: serviceId,
      uid: randomUUID(),
      project,
      location,
      createdAt: now,
      updatedAt: now,
      generation: 0,
      spec: {},
      revisions: [],
      etag: "",
    };
    this.apply(service, body, undefined, now);
    if (request.validateOnly) return this.run.operations.start(parent, () => this.finished(service));
    this.services.set(name, service);
    return this.run.operations.start(parent, () => this.reconcileState(service, service.generation));
  }

  /** GetService. */
  getService(request: Json): Json {
    return this.view(this.require(String(request.name ?? "")));
  }

  /** ListServices: in creation order, paged with tokens bound to the request. */
  listServices(request: Json): Json {
    const { parent } = this.run.parseParent(String(request.parent ?? ""));
    const services = [...this.services.values()].filter((s) => s.name.startsWith(`${parent}/services/`));
    const { page, nextPageToken } = this.run.page("ListServices", parent, services, request);
    return { services: page.map((s) => this.view(s)), nextPageToken };
  }

  /**
   * UpdateService: a new generation and, when the template changed, a new
   * revision the service reconciles towards. A stale `etag` is ABORTED
   * (service.proto, `etag`: "May be used to detect modification conflict
   * during updates"; AIP-154: a request whose etag does not match "must fail
   * with ABORTED"). `allow_missing` creates a service that does not exist
   * ("If set to true, and if the Service does not exist, it will create a new
   * one", UpdateServiceRequest.allow_missing); without it a missing one is
   * NOT_FOUND. `update_mask` follows AIP-134: its paths name the fields
   * replaced, `*` replaces every settable field, and without a mask the
   * fields the request populates are replaced.
   */
  updateService(request: Json): WireOperation {
    const body = (request.service ?? {}) as Json;
    const name = String(body.name ?? "");
    const existing = this.services.get(name);
    if (!existing) {
      if (!request.allowMissing) {
        this.checkName(name);
        throw GcpApiError.notFound("Service", name);
      }
      const match = /^(projects\/[^/]+\/locations\/[^/]+)\/services\/([^/]+)$/.exec(name);
      if (!match) this.checkName(name);
      return this.createService({
        parent: match?.[1],
        serviceId: match?.[2],
        service: body,
        validateOnly: request.validateOnly,
      });
    }
    this.checkEtag(existing, body.etag, "UpdateService");
    const paths = ((request.updateMask as Json | undefined)?.paths as string[] | undefined) ?? [];
    // The service as it would be after the update must meet the rules, not the request's partial body.
    this.checkSpec({ ...existing.spec, ...this.replacedFields(body, paths) }, "UpdateServiceRequest.service");
    const parent = `projects/${existing.project}/locations/${existing.location}`;
    if (request.validateOnly) return this.run.operations.start(parent, () => this.finished(existing));
    this.apply(existing, body, paths, this.clock.now());
    return this.run.operations.start(parent, () => this.reconcileState(existing, existing.generation));
  }

  /**
   * DeleteService: the service is gone at once (GetService answers NOT_FOUND)
   * and the operation carries its last state. A stale `etag` is ABORTED
   * (DeleteServiceRequest.etag, AIP-154).
   */
  deleteService(request: Json): WireOperation {
    const service = this.require(String(request.name ?? ""));
    this.checkEtag(service, request.etag, "DeleteService");
    const parent = `projects/${service.project}/locations/${service.location}`;
    const view = { ...this.view(service), deleteTime: toTimestamp(this.clock.now()) };
    if (!request.validateOnly) this.services.delete(service.name);
    return this.run.operations.start(parent, () => ({
      done: true,
      metadata: { type: "Service", message: view },
      response: { type: "Service", message: view },
    }));
  }

  // --- internals --------------------------------------------------------------------------------------------

  private checkName(name: string): void {
    if (!/^projects\/[^/]+\/locations\/[^/]+\/services\/[^/]+$/.test(name))
      throw GcpApiError.invalid(
        `Invalid service name "${name}": expected projects/{project}/locations/{location}/services/{service}.`,
      );
  }

  private require(name: string): StoredService {
    const service = this.services.get(name);
    if (!service) {
      this.checkName(name);
      throw GcpApiError.notFound("Service", name);
    }
    return service;
  }

  private checkEtag(service: StoredService, etag: unknown, method: string): void {
    if (typeof etag === "string" && etag !== "" && etag !== service.etag)
      throw new GcpApiError(
        GrpcStatus.ABORTED,
        `${method}: the etag ${etag} does not match the service's current etag ${service.etag}; the service was changed since it was read. Read it again and retry.`,
      );
  }

  /** The published rules a service body must meet. */
  private checkSpec(body: Json, where: string): void {
    for (const field of ["labels", "annotations"] as const) {
      for (const key of Object.keys((body[field] as Record<string, string> | undefined) ?? {})) {
        const namespace = key.includes("/") ? key.slice(0, key.indexOf("/")) : "";
        if (reservedNamespaces.includes(namespace))
          throw GcpApiError.invalid(
            `${where}.${field}: the key "${key}" is in the reserved namespace ${namespace}, which Cloud Run API v2 rejects.`,
          );
      }
    }
    const template = body.template as Json | undefined;
    const containers = (template?.containers as Json[] | undefined) ?? [];
    // Service.template is REQUIRED (service.proto); a revision runs containers (revision_template.proto).
    if (!template || containers.length === 0)
      throw GcpApiError.invalid(`${where}.template.containers: a service needs at least one container to run.`);
    containers.forEach((container, i) => {
      if (!container.image) throw GcpApiError.invalid(`${where}.template.containers[${i}].image is required.`);
    });
    // "Violation in CreateServiceRequest.service.template.scaling.max_instance_count: must be greater or equal
    // than min_instance_count." — the real service's answer to a min without a max (goblet/goblet#287; a max
    // left unset counts as 0 there, hashicorp/terraform-provider-google#18969).
    for (const [scaling, path] of [
      [template.scaling as Json | undefined, "template.scaling"],
      [body.scaling as Json | undefined, "scaling"],
    ] as const) {
      const min = Number(scaling?.minInstanceCount ?? 0);
      const max = Number(scaling?.maxInstanceCount ?? 0);
      if (min < 0 || max < 0)
        throw GcpApiError.invalid(`Violation in ${where}.${path}: instance counts must not be negative.`);
      if (min > 0 && max < min)
        throw GcpApiError.invalid(
          `Violation in ${where}.${path}.max_instance_count: must be greater or equal than min_instance_count.`,
        );
    }
  }

  /** The settable fields an update replaces: every one (create, `*`), the populated ones (no mask), or those `paths` name. */
  private replacedFields(body: Json, paths: string[] | undefined): Json {
    const replaced =
      paths === undefined || paths.includes("*")
        ? settableFields
        : paths.length === 0
          ? settableFields.filter((field) => body[field] !== undefined && body[field] !== null)
          : settableFields.filter((field) => paths.some((p) => p === field || p.startsWith(`${field}.`)));
    return Object.fromEntries(replaced.map((field) => [field, body[field] ?? undefined]));
  }

  /** Writes `body`'s settable fields (all of them, or `paths`), bumping the generation and adding a revision when the template changed. */
  private apply(service: StoredService, body: Json, paths: string[] | undefined, now: number): void {
    const previousTemplate = JSON.stringify(service.spec.template ?? null);
    for (const [field, value] of Object.entries(this.replacedFields(body, paths))) {
      if (value === undefined || value === null) delete service.spec[field];
      else service.spec[field] = structuredClone(value);
    }
    service.generation += 1;
    service.updatedAt = now;
    service.etag = `"${createHash("sha256").update(`${service.uid}/${service.generation}`).digest("hex").slice(0, 16)}"`;
    if (JSON.stringify(service.spec.template ?? null) === previousTemplate && service.revisions.length > 0) return;
    // RevisionTemplate.revision: "If this field is omitted, it will be automatically generated based on the
    // Service name." The shape <service>-<generation, 5 digits>-<3 characters> is the one Cloud Run shows.
    const template = service.spec.template as Json;
    const id =
      (template.revision as string | undefined) ||
      `${service.id}-${String(service.generation).padStart(5, "0")}-${Math.random().toString(36).slice(2, 5).padEnd(3, "x")}`;
    const image = String(((template.containers as Json[])[0] as Json).image);
    const script = this.script({ serviceId: service.id, revision: id, image, generation: service.generation });
    service.revisions.push({
      id,
      generation: service.generation,
      createdAt: now,
      settlesAt: now + (script.readyMs ?? this.reconcileMs),
      ...(script.failure ? { failure: script.failure } : {}),
    });
  }

  /** The latest revision that became ready by `now`. */
  private latestReady(service: StoredService, now: number): StoredRevision | undefined {
    return service.revisions.findLast((r) => r.settlesAt <= now && !r.failure);
  }

  /** Which generation the service last finished reconciling, and how. */
  private progress(service: StoredService, now: number) {
    const latest = service.revisions.at(-1) as StoredRevision;
    const settled = now >= latest.settlesAt;
    // A change that made no new revision (labels, scaling) is reconciled with the same delay.
    const changeSettled = now >= service.updatedAt + (latest.generation === service.generation ? 0 : this.reconcileMs);
    const reconciling = !settled || !changeSettled;
    const failed = settled && latest.failure !== undefined;
    return { latest, reconciling, failed };
  }

  private reconcileState(service: StoredService, generation: number): OperationState {
    const view = this.view(service);
    const { latest, reconciling, failed } = this.progress(service, this.clock.now());
    const superseded = service.generation !== generation;
    if (reconciling && !superseded) return { done: false, metadata: { type: "Service", message: view } };
    if (failed && latest.generation === generation)
      return {
        done: true,
        metadata: { type: "Service", message: view },
        // The operation's error code when a revision fails is not published; the fake's choice.
        error: { code: GrpcStatus.FAILED_PRECONDITION, message: String(latest.failure?.message) },
      };
    return { done: true, metadata: { type: "Service", message: view }, response: { type: "Service", message: view } };
  }

  private finished(service: StoredService): OperationState {
    const view = this.view(service);
    return { done: true, metadata: { type: "Service", message: view }, response: { type: "Service", message: view } };
  }

  /** `projects/P/locations/L/revisions/R`, the resource name of a revision (revision.proto). */
  private revisionName(service: StoredService, revision: StoredRevision): string {
    return `projects/${service.project}/locations/${service.location}/services/${service.id}/revisions/${revision.id}`;
  }

  /**
   * A service as Cloud Run reports it. While reconciling, "`observed_generation`,
   * `latest_ready_revision`, `traffic_statuses`, and `uri` will have transient
   * values"; once done, either they match (`generation`, `latest_created_revision`)
   * or, if reconciliation failed, they "will have the state of the last serving
   * revision, or empty for newly created Services. Additional information on
   * the failure can be found in `terminal_condition` and `conditions`"
   * (service.proto, `reconciling`). `terminal_condition` is of type "Ready"
   * (condition.proto: "Types common to all resources include: Ready");
   * `conditions` are the sub-resources' `ConfigurationsReady` and `RoutesReady`
   * (the Knative serving error-condition spec condition.proto links to,
   * knative/serving docs/spec/errors.md; knative/serving#2430 shows the three
   * together).
   */
  private view(service: StoredService): Json {
    const now = this.clock.now();
    const { latest, reconciling, failed } = this.progress(service, now);
    const ready = this.latestReady(service, now);
    const at = toTimestamp;
    const settledAt = Math.max(latest.settlesAt, service.updatedAt);
    const uri = ready
      ? `https://${service.id}-${createHash("sha256").update(service.project).digest("hex").slice(0, 10)}-${regionCode(service.location)}.a.run.app`
      : "";
    const failure = failed ? latest.failure : undefined;
    const terminalCondition: Json = reconciling
      ? { type: "Ready", state: "CONDITION_RECONCILING", reason: "WAITING_FOR_OPERATION" }
      : failure
        ? {
            type: "Ready",
            state: "CONDITION_FAILED",
            message: failure.message,
            severity: "ERROR",
            ...(failure.reason ? { reason: failure.reason } : { reason: "REVISION_FAILED" }),
          }
        : { type: "Ready", state: "CONDITION_SUCCEEDED" };
    terminalCondition.lastTransitionTime = at(reconciling ? service.updatedAt : settledAt);
    const configurationsReady: Json = reconciling
      ? { type: "ConfigurationsReady", state: "CONDITION_RECONCILING" }
      : failure
        ? {
            type: "ConfigurationsReady",
            state: "CONDITION_FAILED",
            message: failure.message,
            severity: "ERROR",
            ...(failure.revisionReason
              ? { revisionReason: failure.revisionReason }
              : { reason: failure.reason ?? "REVISION_FAILED" }),
          }
        : { type: "ConfigurationsReady", state: "CONDITION_SUCCEEDED" };
    const routesReady: Json = ready
      ? { type: "RoutesReady", state: reconciling ? "CONDITION_RECONCILING" : "CONDITION_SUCCEEDED" }
      : {
          type: "RoutesReady",
          state: reconciling ? "CONDITION_PENDING" : "CONDITION_FAILED",
          ...(reconciling ? {} : { message: "No revision is ready to serve traffic.", severity: "ERROR" }),
        };
    const spec = service.spec;
    const template = structuredClone((spec.template ?? {}) as Json);
    const revisionScaling = (template.scaling ?? {}) as Json;
    template.scaling = {
      ...revisionScaling,
      maxInstanceCount: Number(revisionScaling.maxInstanceCount ?? 0) || defaultRevisionMaxInstances,
    };
    const observed = reconciling || failure ? (ready?.generation ?? 0) : service.generation;
    return {
      name: service.name,
      uid: service.uid,
      generation: String(service.generation),
      ...spec,
      template,
      labels: spec.labels ?? {},
      annotations: spec.annotations ?? {},
      // Unset ingress serves all traffic: gcloud's `--ingress` "default=\"all\"" (`gcloud run deploy` manual page).
      ingress: spec.ingress ?? "INGRESS_TRAFFIC_ALL",
      launchStage: spec.launchStage ?? "GA",
      // Traffic: "If traffic is empty or not provided, defaults to 100% traffic to the latest `Ready` Revision."
      traffic: (spec.traffic as Json[] | undefined)?.length
        ? spec.traffic
        : [{ type: "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", percent: 100 }],
      createTime: at(service.createdAt),
      updateTime: at(service.updatedAt),
      creator: "fake-caller@example.iam.gserviceaccount.com",
      lastModifier: "fake-caller@example.iam.gserviceaccount.com",
      observedGeneration: String(observed),
      terminalCondition,
      conditions: [routesReady, { ...configurationsReady, lastTransitionTime: at(settledAt) }],
      latestCreatedRevision: this.revisionName(service, latest),
      ...(ready ? { latestReadyRevision: this.revisionName(service, ready) } : {}),
      trafficStatuses: ready
        ? [{ type: "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", revision: this.revisionName(service, ready), percent: 100 }]
        : [],
      ...(uri ? { uri, urls: [uri] } : {}),
      reconciling,
      etag: service.etag,
    };
  }
}

/** The short region code in a run.app URL (e.g. "uc" for us-central1): the fake's, Google's table is not published. */
function regionCode(location: string): string {
  return location
    .split("-")
    .map((part) => part[0])
    .join("");
}
