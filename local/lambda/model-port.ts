// One AWS model of DynamoDB (../dynamodb-model/model.ts) for every execution environment: the model lives in the
// gateway's thread, where it sees every request in flight from every environment (cross-environment
// TransactionConflict, shared partition capacity), and each environment's SDK middleware asks it over the
// worker's port — admit, settle, release, the model's own three steps. Its refusals cross as a name and
// DynamoDB's reasons and are rebuilt in the worker as the SDK's own exception classes (../dynamodb-model/errors.ts).

import type { MessagePort } from "node:worker_threads";
import type { CancellationReason, ThrottlingReason } from "@aws-sdk/client-dynamodb";
import {
  throttlingException,
  transactionCanceled,
  transactionConflictException,
} from "../dynamodb-model/errors";
import type { ModelGate } from "../dynamodb-model/middleware";
import type { DynamoDbAwsModel, Ticket } from "../dynamodb-model/model";
import type { FromEnvironment, ModelError, ToEnvironment } from "./protocol";

type ModelCall = Extract<FromEnvironment, { type: "model" }>;
/** A call without its envelope, kept a union (Omit of a union would merge its members). */
type CallBody = ModelCall extends infer Call
  ? Call extends ModelCall
    ? Omit<Call, "id" | "type">
    : never
  : never;

/** The model's refusals, counted by kind across every environment (tests and the bench read them). */
export interface ModelPortStatistics {
  admitted: number;
  conflicts: number;
  throttles: number;
}

function serialized(error: unknown): ModelError {
  const { name, message, throttlingReasons, CancellationReasons } = error as ModelError;
  return { name, message, throttlingReasons, CancellationReasons };
}

/** The model's side: answers each environment's calls, and lets go of what a dead environment held. */
export class ModelServer {
  readonly statistics: ModelPortStatistics = { admitted: 0, conflicts: 0, throttles: 0 };
  private readonly tickets = new Map<number, { readonly ticket: Ticket; readonly owner: object }>();
  private nextTicket = 1;

  constructor(private readonly model: DynamoDbAwsModel) {}

  /** The answer to post back to `owner`'s environment, if the call expects one. */
  answer(owner: object, call: ModelCall): ToEnvironment | undefined {
    try {
      switch (call.call) {
        case "admit": {
          const ticket = this.model.admit(call.operation, call.input);
          if (ticket === undefined) return { type: "modelAnswer", id: call.id };
          this.statistics.admitted++;
          const id = this.nextTicket++;
          this.tickets.set(id, { ticket, owner });
          return { type: "modelAnswer", id: call.id, ticket: id };
        }
        case "settle": {
          const held = this.tickets.get(call.ticket);
          if (held !== undefined) this.model.settle(held.ticket, call.output);
          return { type: "modelAnswer", id: call.id };
        }
        case "release":
          this.release(call.ticket);
          return undefined;
      }
    } catch (error) {
      this.count(error);
      return { type: "modelAnswer", id: call.id, error: serialized(error) };
    }
  }

  /** Everything an environment held, released: a terminated worker never holds an item for good. */
  releaseAll(owner: object): void {
    for (const [id, held] of this.tickets) if (held.owner === owner) this.release(id);
  }

  private release(id: number): void {
    const held = this.tickets.get(id);
    if (held === undefined) return;
    this.tickets.delete(id);
    this.model.release(held.ticket);
  }

  private count(error: unknown): void {
    const { name, CancellationReasons } = error as ModelError;
    const codes = ((CancellationReasons ?? []) as CancellationReason[]).map((reason) => reason.Code);
    if (name === "TransactionConflictException" || codes.includes("TransactionConflict"))
      this.statistics.conflicts++;
    if (name === "ThrottlingException" || codes.includes("ThrottlingError")) this.statistics.throttles++;
  }
}

/** The model's refusal as the SDK's exception class, as the model threw it in the other thread. */
function rebuilt(error: ModelError): Error {
  switch (error.name) {
    case "ThrottlingException":
      return throttlingException((error.throttlingReasons ?? []) as ThrottlingReason[]);
    case "TransactionConflictException":
      return transactionConflictException();
    case "TransactionCanceledException":
      return transactionCanceled((error.CancellationReasons ?? []) as CancellationReason[]);
    default:
      return new Error(error.message);
  }
}

/** Only what the model bills a read by: the items a response returned. */
function billedOutput(output: unknown): unknown {
  const { Item, Items } = (output ?? {}) as { Item?: unknown; Items?: unknown };
  return { Item, Items };
}

/** The environment's side: a ModelGate whose every step is a question to the model's thread. */
export function remoteModel(port: MessagePort): {
  readonly gate: ModelGate<number>;
  readonly answered: (answer: Extract<ToEnvironment, { type: "modelAnswer" }>) => void;
} {
  let nextCall = 1;
  const waiting = new Map<number, { resolve: (ticket?: number) => void; reject: (error: Error) => void }>();
  const ask = (call: CallBody): Promise<number | undefined> =>
    new Promise((resolve, reject) => {
      const id = nextCall++;
      waiting.set(id, { resolve, reject });
      port.postMessage({ ...call, type: "model", id });
    });
  return {
    gate: {
      admit: (operation, input) => ask({ call: "admit", operation, input }),
      settle: async (ticket, output) => {
        await ask({ call: "settle", ticket, output: billedOutput(output) });
      },
      release: (ticket) => port.postMessage({ type: "model", id: 0, call: "release", ticket }),
    },
    answered: (answer) => {
      const call = waiting.get(answer.id);
      waiting.delete(answer.id);
      if (answer.error !== undefined) call?.reject(rebuilt(answer.error));
      else call?.resolve(answer.ticket);
    },
  };
}
