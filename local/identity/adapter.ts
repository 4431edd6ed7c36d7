// Where the local issuer keeps its sessions, interactions, grants, codes and refresh tokens: in memory, shared by
// every Provider the issuer builds (a key rotation builds a new one), lost when the process stops — users sign
// in again after a restart. oidc-provider's adapter interface (its example/my_adapter.js); each entry expires
// when oidc-provider says, and expired entries are swept as new ones arrive, so memory stays bounded by use.

import type { Adapter, AdapterPayload } from "oidc-provider";

/** Expired entries are swept at most this often. */
const SWEEP_INTERVAL_MS = 60_000;

interface Entry {
  readonly payload: AdapterPayload;
  readonly expiresAtMs: number;
}

/** One store for every model (keys are prefixed by the model's name), with the indexes oidc-provider asks for. */
export class MemoryStore {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;
  #sweptAtMs = 0;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  get(key: string): AdapterPayload | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAtMs <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.payload;
  }

  set(key: string, payload: AdapterPayload, expiresInSeconds: number | undefined): void {
    this.#sweep();
    const expiresAtMs =
      expiresInSeconds === undefined ? Number.POSITIVE_INFINITY : this.#now() + expiresInSeconds * 1000;
    this.#entries.set(key, { payload, expiresAtMs });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** The remaining lifetime of an entry in seconds, for index entries that must expire with it. */
  secondsLeft(key: string): number | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.expiresAtMs === Number.POSITIVE_INFINITY) return undefined;
    return Math.max(0, Math.ceil((entry.expiresAtMs - this.#now()) / 1000));
  }

  #sweep(): void {
    const nowMs = this.#now();
    if (nowMs - this.#sweptAtMs < SWEEP_INTERVAL_MS) return;
    this.#sweptAtMs = nowMs;
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAtMs <= nowMs) this.#entries.delete(key);
    }
  }
}

/** oidc-provider's Adapter for one model, on the shared store. */
export function memoryAdapter(store: MemoryStore): new (name: string) => Adapter {
  return class MemoryAdapter implements Adapter {
    readonly #name: string;

    constructor(name: string) {
      this.#name = name;
    }

    #key(id: string): string {
      return `${this.#name}:${id}`;
    }

    upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const key = this.#key(id);
      store.set(key, payload, expiresIn);
      if (payload.grantId !== undefined) {
        const grantKey = `grant:${payload.grantId}`;
        const members = (store.get(grantKey)?.members as string[] | undefined) ?? [];
        // The index lives as long as its longest-lived member.
        const memberSeconds = store.secondsLeft(key);
        const indexSeconds = store.secondsLeft(grantKey) ?? 0;
        const seconds = memberSeconds === undefined ? undefined : Math.max(memberSeconds, indexSeconds);
        store.set(grantKey, { members: [...members, key] }, seconds);
      }
      if (payload.uid !== undefined) store.set(`uid:${this.#name}:${payload.uid}`, { id }, expiresIn);
      if (payload.userCode !== undefined) {
        store.set(`userCode:${this.#name}:${payload.userCode}`, { id }, expiresIn);
      }
      return Promise.resolve();
    }

    #findIndexed(indexKey: string): Promise<AdapterPayload | undefined> {
      const id = store.get(indexKey)?.id;
      return typeof id === "string" ? this.find(id) : Promise.resolve(undefined);
    }

    find(id: string): Promise<AdapterPayload | undefined> {
      return Promise.resolve(store.get(this.#key(id)));
    }

    findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.#findIndexed(`uid:${this.#name}:${uid}`);
    }

    findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.#findIndexed(`userCode:${this.#name}:${userCode}`);
    }

    consume(id: string): Promise<void> {
      const key = this.#key(id);
      const payload = store.get(key);
      if (payload !== undefined) {
        store.set(key, { ...payload, consumed: Math.floor(Date.now() / 1000) }, store.secondsLeft(key));
      }
      return Promise.resolve();
    }

    destroy(id: string): Promise<void> {
      store.delete(this.#key(id));
      return Promise.resolve();
    }

    revokeByGrantId(grantId: string): Promise<void> {
      const grantKey = `grant:${grantId}`;
      for (const key of (store.get(grantKey)?.members as string[] | undefined) ?? []) store.delete(key);
      store.delete(grantKey);
      return Promise.resolve();
    }
  };
}
