// The whole system in one process, on an existing DynamoDB: the real command, query and audit handlers behind
// the local gateway, and the stream poller feeding the real projector. Used by `npm start` and by tests that need
// the HTTP runtime. It does not start DynamoDB Local: main.ts does, and tests share one.

import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Committer } from "../services/command/committer";
import { createCommitter } from "../services/command/sharded-committer";
import { createCommandHandler } from "../services/command/handler";
import { createDocumentClient } from "../services/ledger/storage/clients";
import type { LedgerConfig } from "../services/ledger/config";
import { createLogger } from "../services/ledger/log";
import { createAuditHandler, createQueryHandler } from "../services/query/handler";
import { createProjectorHandler } from "../services/projector/handler";
import { createLedgerDigestSource, type DigestSource } from "../services/digest/digests";
import { DIGESTS_FILE, loadDigestSigner, startDigestSchedule, type DigestSchedule } from "./digests";
import {
  localSettingsOf,
  readLocalEnvironment,
  type DynamoDbModelSettings,
  type LocalSettings,
} from "./config";
import { installDynamoDbModel } from "./dynamodb-model/middleware";
import { startLambdaMode, type LambdaMode, type LambdaModeStatistics } from "./lambda/mode";
import { DynamoDbAwsModel } from "./dynamodb-model/model";
import { tableShape } from "./dynamodb-model/requests";
import { tableDefinitions } from "../services/ledger/storage/tables";
import { createGateway, type HttpHandler, type MountedListener } from "./gateway";
import type { LambdaName } from "../services/ledger/http/routes";
import { createJwtAuthorizer, TOKEN_ERRORS, type JwtAuthorizer } from "./authorizer";
import { ISSUER_PATH, TOKEN_AUDIENCES } from "./identity/clients";
import { startLocalIssuer, type LocalIssuer, type LocalIssuerOptions } from "./identity/issuer";
import { UI_CONFIG_PATH, uiConfigListener } from "./identity/ui-config";
import { startStreamPoller } from "./poller";
import { AUDIT_CONCURRENCY_DEFAULT } from "./limits";
import { createTokenBucket } from "./throttle";
import { createLocalMetrics, METRICS_PATH, type LocalMetrics } from "./metrics";
import { startVerifySchedule, type VerifySchedule } from "./verify-schedule";
import { createVerifier } from "../services/query/verify";
import type { VerifyReport } from "../contract/schemas";
import { join } from "node:path";

export interface LocalSystemOptions {
  /** Environment to read configuration from (table names, endpoint, bounds…); defaults to process.env. */
  readonly environment?: Readonly<Record<string, string | undefined>>;
  /** Port to listen on; 0 picks a free one. */
  readonly port?: number;
  readonly host?: string;
  /** Directory of built static files served at `/`. */
  readonly webRoot?: string | undefined;
  /** Where the stream poller keeps its checkpoints and failure log; defaults to DATA_DIR, else `.data`. */
  readonly dataDirectory?: string;
  /**
   * Called once with the DynamoDB client of the handlers and the projector before anything uses it: tests and
   * the soak attach fault-injecting middleware here (testkit/faults.ts). The stream reader is not affected.
   */
  readonly configureClient?: (client: DynamoDBDocumentClient) => void;
  /**
   * Whether to run the stream poller and projector (default true). The benchmark turns it off to measure the
   * write path alone, as on AWS, where the projector runs on its own compute against its own table.
   */
  readonly streamPoller?: boolean;
  /** Called when GET /number/verify holds the counter's lease, before its replay (tests hold one there). */
  readonly onVerifyLeaseHeld?: () => Promise<void>;
  /** Options of the local issuer (started when AUTH is on): a key rotation at start, the clock of rotation. */
  readonly identity?: Pick<LocalIssuerOptions, "now" | "rotateSigningKey">;
  /** Milliseconds between scheduled verifications, instead of VERIFY_INTERVAL_MINUTES (tests use a short one). */
  readonly verifyIntervalMs?: number;
}

export interface LocalSystem {
  readonly url: string;
  readonly config: LedgerConfig;
  /** The committer behind POST /number, for its statistics (benchmarks, logs). */
  readonly committer: Pick<Committer, "commit" | "statistics">;
  /** The local OpenID Connect issuer's identifier (`<url>/oidc`), when AUTH is on. */
  readonly issuer?: string;
  /** The local issuer itself (its keys, a rotation), when AUTH is on. */
  readonly identity?: LocalIssuer;
  /** The scheduled digest (DIGEST_INTERVAL_MINUTES): `tick` writes one now, as the timer does. */
  readonly digests: DigestSchedule;
  /** The scheduled verify (VERIFY_INTERVAL_MINUTES): `tick` runs one now, as the timer does. */
  readonly verifications: VerifySchedule;
  /** The metrics GET /metrics serves (local/metrics.ts). */
  readonly metrics: LocalMetrics;
  /**
   * LAMBDA_CONCURRENCY: what the command and query functions' execution environments did (cold starts,
   * throttles, their committers' counters). Undefined by default; then `committer` serves every command.
   */
  readonly lambda: LambdaModeStatistics | undefined;
  readonly stop: () => Promise<void>;
}

/**
 * The local issuer under /oidc (when AUTH is on) and the UI's /config.json, mounted in the gateway, and the
 * gateway's JWT authorizer trusting that issuer as API Gateway trusts the Cognito pool. The issuer's identifier
 * includes the port, known only once the server listens: `start` is called after listen, and until then the
 * authorizer refuses every token as unverifiable.
 */
function identityMount(enabled: boolean): {
  readonly mounts: Readonly<Record<string, MountedListener>>;
  readonly authorizer: JwtAuthorizer | undefined;
  readonly start: (options: LocalIssuerOptions) => Promise<LocalIssuer | undefined>;
} {
  let identity: LocalIssuer | undefined;
  let verifier: JwtAuthorizer | undefined;
  // Requests that reach /oidc or /config.json between listen and the issuer's start wait for it.
  let started: (issuer: LocalIssuer | undefined) => void = () => undefined;
  const ready = new Promise<LocalIssuer | undefined>((resolveReady) => (started = resolveReady));
  const authorizer: JwtAuthorizer = {
    get issuer() {
      return identity?.issuer ?? "";
    },
    authorize: async (token, routeScopes) => {
      await ready;
      return verifier === undefined
        ? { kind: "invalidToken", description: TOKEN_ERRORS.keysUnavailable }
        : verifier.authorize(token, routeScopes);
    },
  };
  const afterStart =
    (listener: (issuer: LocalIssuer | undefined) => MountedListener | undefined): MountedListener =>
    (request, response) =>
      void ready.then((issuer) => {
        const mounted = listener(issuer);
        if (mounted === undefined) response.destroy();
        else mounted(request, response);
      });
  const configListener = uiConfigListener(() => identity?.issuer);
  return {
    mounts: {
      [UI_CONFIG_PATH]: enabled ? afterStart(() => configListener) : configListener,
      ...(enabled ? { [ISSUER_PATH]: afterStart((issuer) => issuer?.listener) } : {}),
    },
    authorizer: enabled ? authorizer : undefined,
    start: async (options) => {
      if (!enabled) return undefined;
      try {
        identity = await startLocalIssuer(options);
        verifier = createJwtAuthorizer({ issuer: identity.issuer, audiences: TOKEN_AUDIENCES });
        return identity;
      } finally {
        started(identity);
      }
    },
  };
}

/**
 * The digests of the local runtime (local/digests.ts): one signer and one cache for GET /number/digest and the
 * schedule, so that a head is signed once; the schedule starts once the gateway listens.
 */
function localDigests(
  client: DynamoDBDocumentClient,
  settings: LocalSettings,
  dataDirectory: string,
  environment: Readonly<Record<string, string | undefined>>,
): { readonly source: DigestSource; readonly start: () => DigestSchedule } {
  const { counterId, tables } = settings.ledger;
  const source = createLedgerDigestSource({
    client,
    tables,
    counterId,
    signer: loadDigestSigner(dataDirectory),
  });
  const start = () =>
    startDigestSchedule({
      source,
      file: join(dataDirectory, DIGESTS_FILE),
      intervalMs: settings.digestIntervalMs,
      log: createLogger("digest", environment),
    });
  return { source, start };
}

/** The stream poller feeding the real projector, as Lambda's event source mapping does on AWS. */
function startPoller(
  client: DynamoDBDocumentClient,
  settings: LocalSettings,
  dataDirectory: string,
  environment: Readonly<Record<string, string | undefined>>,
  metrics: LocalMetrics,
) {
  const { ledger: config } = settings;
  return startStreamPoller({
    config,
    handler: createProjectorHandler({
      client,
      tables: config.tables,
      log: createLogger("projector", environment),
      metrics,
    }),
    dataDirectory,
    log: createLogger("poller", environment),
    ...settings.streamPoller,
  });
}

/**
 * The handlers of the three HTTP Lambdas, as on AWS: the command, the query Lambda's cheap reads, and the audit
 * routes on their own handler (the gateway gives it the audit Lambda's reserved concurrency).
 */
function lambdaHandlers(parts: {
  readonly client: DynamoDBDocumentClient;
  readonly config: LedgerConfig;
  readonly committer: Pick<Committer, "commit" | "statistics">;
  readonly environment: Readonly<Record<string, string | undefined>>;
  readonly digests: DigestSource;
  readonly metrics: LocalMetrics;
  readonly verify: () => Promise<VerifyReport>;
}): Readonly<Record<LambdaName, HttpHandler>> {
  const { client, config, committer, environment, digests, metrics, verify } = parts;
  return {
    command: createCommandHandler({ committer, config, log: createLogger("command", environment), metrics }),
    query: createQueryHandler({ client, config, log: createLogger("query", environment), digests, metrics }),
    audit: createAuditHandler({ client, config, log: auditLog(environment), digests, metrics, verify }),
  };
}

/**
 * DYNAMODB_MODEL=aws: the handlers' and the projector's client meet DynamoDB's limits as AWS sets them. The one
 * model of the runtime: LAMBDA_CONCURRENCY's environments ask it too (local/lambda/model-port.ts).
 */
function installModel(
  client: DynamoDBDocumentClient,
  config: LedgerConfig,
  settings: DynamoDbModelSettings | undefined,
): DynamoDbAwsModel | undefined {
  if (settings === undefined) return undefined;
  const tables = tableDefinitions(config.tables).map(tableShape);
  const model = new DynamoDbAwsModel({ tables, ...settings });
  installDynamoDbModel(client, model);
  return model;
}

/**
 * LAMBDA_CONCURRENCY: the command and query functions as execution environments (local/lambda/mode.ts), each
 * configured from the runtime's environment as a Lambda from its variables; undefined when it is off.
 */
async function lambdaMode(
  settings: LocalSettings,
  environment: Readonly<Record<string, string | undefined>>,
  metrics: LocalMetrics,
  model: DynamoDbAwsModel | undefined,
): Promise<LambdaMode | undefined> {
  const concurrency = settings.lambdaConcurrency;
  return concurrency === undefined
    ? undefined
    : startLambdaMode({ concurrency, environment, metrics, model });
}

const auditLog = (environment: Readonly<Record<string, string | undefined>>) =>
  createLogger("audit", environment);

/**
 * The audit function's incremental verification, one per process as one per execution environment on AWS: GET
 * /number/verify and the schedule share it (services/audit/handler.ts), with its single flight.
 */
function localVerifications(
  parts: Pick<LocalSystemOptions, "onVerifyLeaseHeld" | "verifyIntervalMs"> & {
    readonly client: DynamoDBDocumentClient;
    readonly settings: LocalSettings;
    readonly metrics: LocalMetrics;
    readonly environment: Readonly<Record<string, string | undefined>>;
  },
): { readonly verify: () => Promise<VerifyReport>; readonly start: () => VerifySchedule } {
  const log = auditLog(parts.environment);
  const verify = createVerifier({
    client: parts.client,
    config: parts.settings.ledger,
    log,
    metrics: parts.metrics,
    onLeaseHeld: parts.onVerifyLeaseHeld,
  });
  const intervalMs = parts.verifyIntervalMs ?? parts.settings.verifyIntervalMs;
  return { verify, start: () => startVerifySchedule({ verify, intervalMs, log }) };
}

/** Stops each part in turn: the gateway first (no new requests), then the schedules, the poller, the client. */
function stopper(
  parts: readonly [
    Server,
    DigestSchedule,
    VerifySchedule,
    { readonly stop: () => Promise<void> } | undefined,
    DynamoDBDocumentClient,
    LambdaMode | undefined,
  ],
): () => Promise<void> {
  const [gateway, digests, verifications, poller, client, lambda] = parts;
  return async () => {
    await new Promise<void>((resolveClose) => {
      gateway.close(() => resolveClose());
      gateway.closeAllConnections();
    });
    await lambda?.stop();
    await digests.stop();
    await verifications.stop();
    await poller?.stop();
    client.destroy();
  };
}

/** The local API Gateway: the handlers, the mounts (issuer, UI config, /metrics), throttling and CORS. */
function localGateway(parts: {
  readonly options: LocalSystemOptions;
  readonly settings: LocalSettings;
  readonly mounts: Readonly<Record<string, MountedListener>>;
  readonly authorizer: JwtAuthorizer | undefined;
  readonly handlers: Omit<Parameters<typeof lambdaHandlers>[0], "config" | "metrics">;
  readonly metrics: LocalMetrics;
  readonly lambda: LambdaMode | undefined;
}) {
  const { settings, metrics } = parts;
  return createGateway({
    mounts: parts.mounts,
    metrics: parts.metrics,
    authorizer: parts.authorizer,
    publicRead: settings.ledger.auth.publicRead,
    handlers: {
      ...lambdaHandlers({ ...parts.handlers, config: settings.ledger, metrics }),
      ...parts.lambda?.handlers,
    },
    concurrency: { audit: AUDIT_CONCURRENCY_DEFAULT },
    webRoot: parts.options.webRoot,
    corsOrigins: settings.corsOrigins,
    throttle: settings.throttle === undefined ? undefined : createTokenBucket(settings.throttle),
  });
}

export async function startLocalSystem(options: LocalSystemOptions = {}): Promise<LocalSystem> {
  const environment = options.environment ?? process.env;
  const settings = localSettingsOf(readLocalEnvironment(environment));
  const config = settings.ledger;
  const client = createDocumentClient(config);
  const model = installModel(client, config, settings.dynamoDbModel);
  options.configureClient?.(client);
  const metrics = createLocalMetrics();
  const committer = createCommitter({ client, config, metrics });
  const identity = identityMount(config.auth.enabled);
  const dataDirectory = options.dataDirectory ?? settings.dataDirectory;
  const lambda = await lambdaMode(settings, { ...environment, DATA_DIR: dataDirectory }, metrics, model);
  const digestSchedule = localDigests(client, settings, dataDirectory, environment);
  const verifications = localVerifications({ ...options, client, settings, metrics, environment });
  const { verify } = verifications;
  const gateway = localGateway({
    options,
    settings,
    mounts: { ...identity.mounts, [METRICS_PATH]: metrics.listener },
    authorizer: identity.authorizer,
    handlers: { client, committer, environment, digests: digestSchedule.source, verify },
    metrics,
    lambda,
  });
  const poller =
    (options.streamPoller ?? true)
      ? startPoller(client, settings, dataDirectory, environment, metrics)
      : undefined;
  const host = options.host ?? "127.0.0.1";
  try {
    await new Promise<void>((resolveListen, reject) => {
      gateway.once("error", reject);
      gateway.listen(options.port ?? 0, host, () => resolveListen());
    });
  } catch (error) {
    await lambda?.stop();
    await poller?.stop();
    client.destroy();
    throw error;
  }
  const digests = digestSchedule.start();
  const verifySchedule = verifications.start();
  const { port } = gateway.address() as AddressInfo;
  const url = `http://${host === "0.0.0.0" ? "localhost" : host}:${port}`;
  const stop = stopper([gateway, digests, verifySchedule, poller, client, lambda]);
  let issuer: LocalIssuer | undefined;
  try {
    issuer = await identity.start({
      baseUrl: url,
      dataDirectory,
      corsOrigins: settings.corsOrigins,
      log: createLogger("identity", environment),
      ...options.identity,
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const verifications_ = { verifications: verifySchedule, metrics, lambda: lambda?.statistics };
  return {
    url,
    config,
    committer,
    issuer: issuer?.issuer,
    identity: issuer,
    digests,
    ...verifications_,
    stop,
  };
}
