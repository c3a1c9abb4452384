/**
 * Our Aedes persistence on LevelDB: sessions, QoS 1/2 queues, wills and retained messages survive a hub crash. It
 * implements aedes' async persistence interface itself and passes aedes-persistence's own abstract test suite
 * (test/integration/hub/broker/level-persistence.test.ts), instead of patching the internals of aedes-persistence-level.
 *
 * Storage is the same as aedes-persistence-level 9 (the keys below, values in msgpack, subscriptions matched with
 * qlobber's aedes trie), so a hub upgraded from it keeps its sessions, queues and retained state as they are.
 *
 * What differs is the retained lookup. aedes-persistence-level decodes every retained message in the store for each
 * SUBSCRIBE, and every device leaves a retained availability and three retained commands, so a reconnect storm cost
 * O(devices²): 3,000 devices first connecting took 238 s (bench/RESULTS.md, fleet). Here only the keys under the
 * filter's literal prefix (its levels before the first wildcard) are read, and the matcher drops the few siblings the
 * range also holds.
 *
 * A reconnecting client costs as little I/O as its session needs: its subscriptions are answered from memory (a copy
 * of what is on disk, loaded at setup and changed only with it), and its queue is read only when it may hold
 * something (a client never enqueued to since setup, nor found with a queue at setup, has none). Stored values are
 * read by msgpack-read.ts (written by msgpack-lite, as before).
 */
import { Readable } from 'node:stream';
import { isDeepStrictEqual } from 'node:util';
import packetModule from 'aedes-packet';
import type { Level } from 'level';
import msgpack from 'msgpack-lite';
import { QlobberTrue } from 'qlobber';
import QlobberSub from 'qlobber/aedes/qlobber-sub.js';
import { type LogFault, LogFaultGuard, reopenLevel } from '../db/log-fault.js';
import { pages } from '../db/pages.js';
import { CoalescedWrites } from './coalesced-writes.js';
import { decodeStored } from './msgpack-read.js';

/** Topic matching as MQTT does it, as aedes-persistence-level configures qlobber. */
const MATCHER_OPTIONS = { wildcard_one: '+', wildcard_some: '#', separator: '/', match_empty_levels: true };

const RETAINED = 'retained:';
const SUBSCRIPTIONS = 'subscriptions:';
const OUTGOING = 'outgoing:';
const OUTGOING_ID = 'outgoing-id:';
const INCOMING = 'incoming:';
const WILL = 'will:';
const BUFFERS = { valueEncoding: 'buffer' } as const;

/** A packet as aedes hands it over and gets it back (aedes-packet's Packet, plus what aedes adds). */
export interface StoredPacket {
  cmd: string;
  topic: string;
  payload: Buffer | string;
  qos: number;
  retain?: boolean;
  dup?: boolean;
  messageId?: number | undefined;
  brokerId?: string;
  brokerCounter?: number;
  clientId?: string;
  [field: string]: unknown;
}

export interface PersistenceClient {
  id: string;
}

export interface Subscription {
  topic: string;
  qos: number;
  rh?: number;
  rap?: boolean;
  nl?: boolean;
  subscriptionIdentifier?: number;
}

type StoredSubscription = Subscription & { clientId: string };

/** The part of aedes that a persistence is given at setup. */
export interface PersistenceBroker {
  id: string;
  counter: number;
}

type PacketConstructor = new (original: object, broker?: PersistenceBroker) => StoredPacket;
/** aedes-packet's typings declare a namespace; the module itself is the constructor. */
const Packet = packetModule as unknown as PacketConstructor;

/** Every key under `prefix` (which ends with ':'): ';' is the byte after ':', so nothing else sorts in between. */
function prefixRange(prefix: string): { gte: string; lt: string } {
  return { gte: prefix, lt: `${prefix.slice(0, -1)};` };
}

/**
 * The key range that holds every retained topic a filter can match. 'a/b/+' → keys from 'retained:a/b' up to (not
 * including) 'retained:a/b0': '0' is the byte after '/', so the range holds 'a/b' itself (which 'a/b/#' matches) and
 * everything under 'a/b/', plus a few siblings such as 'a/b-c' that the matcher then drops.
 */
export function retainedRange(filter: string): { gte: string; lte?: string; lt?: string } {
  const levels = filter.split('/');
  const wildcard = levels.findIndex((level) => level === '+' || level === '#');
  if (wildcard === -1) return { gte: RETAINED + filter, lte: RETAINED + filter };
  if (wildcard === 0) return prefixRange(RETAINED);
  const prefix = levels.slice(0, wildcard).join('/');
  return { gte: RETAINED + prefix, lt: `${RETAINED}${prefix}0` };
}

/** Pads a counter so that keys sort in numeric order (Number.MAX_SAFE_INTEGER has 16 digits). */
const padded = (n: number | undefined): string => String(n).padStart(16, '0');
/**
 * Per-client key prefixes end with ':', so a range over one cannot reach a client whose id extends it ('abc' and
 * 'abcde'); an id's own ':' is escaped by encodeURIComponent.
 */
const clientKey = (kind: string, clientId: string): string => `${kind}${encodeURIComponent(clientId)}:`;
const outgoingKey = (clientId: string, brokerId: string | undefined, counter: number | undefined): string =>
  `${clientKey(OUTGOING, clientId)}${brokerId}:${padded(counter)}`;
const outgoingIdKey = (clientId: string, messageId: number | undefined): string =>
  `${clientKey(OUTGOING_ID, clientId)}${padded(messageId)}`;
const incomingKey = (clientId: string, messageId: number | undefined): string =>
  `${clientKey(INCOMING, clientId)}${padded(messageId)}`;
const subscriptionKey = (clientId: string, topic: string): string =>
  `${clientKey(SUBSCRIPTIONS, clientId)}${topic}`;
const willKey = (clientId: string): string => `${WILL}${encodeURIComponent(clientId)}`;
/** The topic filter a subscription key holds (subscriptionKey's inverse). */
const topicOf = (key: string, clientId: string): string =>
  key.slice(clientKey(SUBSCRIPTIONS, clientId).length);

/** LevelDB's order for string keys: by their UTF-8 bytes. */
const compareKeys = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

export class LevelPersistence {
  /** Replaced by a new handle on the same files after a failed write (see #guard). */
  #db: Level<string, Buffer>;
  /**
   * A failed write can leave part of itself in LevelDB's log, and LevelDB appends later writes after it where its next
   * open drops them (hub/db/log-fault.ts): queued commands, sessions and retained messages written after a full disk
   * would be gone at the next restart. So writes are refused from a failed one until the database is reopened.
   */
  readonly #guard: LogFaultGuard;
  /** Subscriptions with QoS > 0 or still wanted after a restart, by topic filter: what a publish is matched against. */
  readonly #subscriptions = new QlobberSub<StoredSubscription>(MATCHER_OPTIONS);
  /** Every stored subscription, by client and filter: the disk's content, kept in step with each write. */
  readonly #byClient = new Map<string, Map<string, StoredSubscription>>();
  /**
   * Clients whose outgoing queue may hold packets, with a count of enqueues: a stream that finds the queue empty
   * forgets the client only if nothing was enqueued meanwhile.
   */
  readonly #mayHaveQueue = new Map<string, number>();
  /**
   * Each client's outgoing packets sent with a message id and not yet acknowledged (what the outgoing-id keys hold),
   * kept in step with every write of those keys: a PUBACK is then cleared without a LevelDB read. During a
   * 10,000-report flood the reads for the flooder's PUBACKs held the event loop for 100 ms at a time. After a restart
   * the map is empty and the disk is read, as before.
   */
  readonly #sentIds = new Map<string, Map<number, StoredPacket>>();
  /**
   * Every stored will, by client, once setup() has read them (undefined before): a CONNECT deletes the client's old
   * will and stores its new one, and knowing what is stored spares a read each (a reconnect storm of 3,000).
   */
  #wills: Map<string, StoredPacket> | undefined;
  /**
   * Wills deleted (gone from #wills) whose delete has not gone to disk yet, with their stored bytes. aedes deletes a
   * client's will and stores its new one on every CONNECT: when the new one is the same will (a reconnect within one
   * hub's run), the delete is withdrawn and nothing is written at all.
   */
  readonly #willDeletes = new Map<string, Buffer>();
  /** Wills and retained messages: one key each, written per loop turn in one batch (a reconnect storm's bulk). */
  readonly #coalesced: CoalescedWrites;
  #broker: PersistenceBroker | undefined;

  /**
   * Takes a LevelDB of its own, opened or opening, whatever its default value encoding (every read and write here
   * names 'buffer'); destroy() closes it.
   */
  constructor(
    db: Level<string, string> | Level<string, Buffer> | Level<string, unknown>,
    options: { onLogFault?: (state: Readonly<LogFault>) => void } = {},
  ) {
    this.#db = db as unknown as Level<string, Buffer>;
    this.#guard = new LogFaultGuard(this.#db.location, () => this.#reopen(), options.onLogFault);
    this.#coalesced = new CoalescedWrites(this.#db, this.#guard);
  }

  /** The database as it is open now (a new handle after a reopen): for snapshots. */
  get db(): Level<string, Buffer> {
    return this.#db;
  }

  /** Whether writes are refused after a failed one, how often, and the last failure: for /metrics and tests. */
  get logFault(): Readonly<LogFault> {
    return this.#guard.state;
  }

  /** A new handle on the same files (reopenLevel); the coalesced writes' native batch is made again. */
  async #reopen(): Promise<void> {
    const db = await reopenLevel(this.#db);
    this.#db = db;
    this.#coalesced.rebind(db);
  }

  /** One write to LevelDB, unless writes are refused after a failed one. */
  #write(op: () => Promise<void>): Promise<void> {
    return this.#guard.write(op);
  }

  get broker(): PersistenceBroker | undefined {
    return this.#broker;
  }

  async setup(broker: PersistenceBroker): Promise<void> {
    this.#broker = broker;
    for await (const page of this.#valuePages<StoredSubscription>(SUBSCRIPTIONS)) {
      for (const sub of page) {
        this.#subscriptions.add(sub.topic, sub);
        this.#remember(sub);
      }
    }
    const wills = new Map<string, StoredPacket>();
    let unindexed = false;
    for await (const page of this.#valuePages<StoredPacket>(WILL)) {
      for (const will of page) {
        if (will.clientId) wills.set(will.clientId, will);
        else unindexed = true;
      }
    }
    // A will without its client's id (not written by putWill) leaves the disk as the only index.
    this.#wills = unindexed ? undefined : wills;
    // Keys only: which clients have a queue, without reading the packets.
    for await (const page of pages(this.#db.keys(prefixRange(OUTGOING)))) {
      for (const key of page) {
        const id = decodeURIComponent(key.slice(OUTGOING.length, key.indexOf(':', OUTGOING.length)));
        this.#mayHaveQueue.set(id, 1);
      }
    }
  }

  async storeRetained(packet: StoredPacket): Promise<void> {
    const key = RETAINED + packet.topic;
    await this.#coalesced.write(key, packet.payload.length === 0 ? null : msgpack.encode(packet));
  }

  createRetainedStream(filter: string): Readable {
    return Readable.from(this.#retained([filter]));
  }

  createRetainedStreamCombi(filters: string[]): Readable {
    return Readable.from(this.#retained(filters));
  }

  /**
   * A subscription already stored exactly so is not written again: every device re-subscribes each time it connects,
   * and in a reconnect storm of 3,000 those rewrites were a tenth of the hub's CPU (bench/RESULTS.md, fleet).
   */
  async addSubscriptions(client: PersistenceClient, subs: Subscription[]): Promise<void> {
    const batch: { type: 'put'; key: string; value: Buffer }[] = [];
    for (const subscription of subs) {
      const sub: StoredSubscription = { ...subscription, clientId: client.id };
      this.#trieAdd(sub);
      const value = msgpack.encode(sub);
      // What a read from disk would give (msgpack turns an undefined field into null), not the caller's object.
      const stored = decodeStored(value) as StoredSubscription;
      const known = this.#byClient.get(client.id)?.get(sub.topic);
      if (known && isDeepStrictEqual(known, stored)) continue;
      this.#remember(stored);
      batch.push({ type: 'put', key: subscriptionKey(client.id, sub.topic), value });
    }
    if (batch.length === 0) return;
    await this.#write(() => this.#db.batch(batch, BUFFERS)).catch((error: unknown) => {
      // Not on disk: forget them, or the client's next SUBSCRIBE would find them known and write nothing.
      for (const { key } of batch) this.#byClient.get(client.id)?.delete(topicOf(key, client.id));
      throw error;
    });
  }

  async removeSubscriptions(client: PersistenceClient, topics: string[]): Promise<void> {
    const own = this.#byClient.get(client.id);
    const batch = topics.map((topic) => {
      this.#trieRemove({ clientId: client.id, topic, qos: 0 });
      own?.delete(topic);
      return { type: 'del' as const, key: subscriptionKey(client.id, topic) };
    });
    if (own?.size === 0) this.#byClient.delete(client.id);
    await this.#write(() => this.#db.batch(batch));
  }

  /** From memory, in the order LevelDB would list them (by key: the filter's UTF-16 order matches for these keys). */
  async subscriptionsByClient(client: PersistenceClient): Promise<Subscription[]> {
    const own = this.#byClient.get(client.id);
    if (!own) return [];
    return [...own.values()]
      .sort((a, b) => compareKeys(subscriptionKey(a.clientId, a.topic), subscriptionKey(b.clientId, b.topic)))
      .map(({ clientId: _, ...sub }) => ({ ...sub }));
  }

  async countOffline(): Promise<{ subsCount: number; clientsCount: number }> {
    let subsCount = 0;
    for (const own of this.#byClient.values())
      for (const sub of own.values()) if (sub.qos > 0) subsCount += 1;
    return { subsCount, clientsCount: this.#byClient.size };
  }

  async subscriptionsByTopic(topic: string): Promise<StoredSubscription[]> {
    return this.#subscriptions.match(topic);
  }

  async cleanSubscriptions(client: PersistenceClient): Promise<void> {
    const subs = await this.subscriptionsByClient(client);
    if (subs.length > 0)
      await this.removeSubscriptions(
        client,
        subs.map((sub) => sub.topic),
      );
  }

  async outgoingEnqueue(sub: { clientId: string }, packet: StoredPacket): Promise<void> {
    this.#mayHaveQueue.set(sub.clientId, (this.#mayHaveQueue.get(sub.clientId) ?? 0) + 1);
    await this.#put(outgoingKey(sub.clientId, packet.brokerId, packet.brokerCounter), new Packet(packet));
  }

  async outgoingEnqueueCombi(subs: { clientId: string }[] | undefined, packet: StoredPacket): Promise<void> {
    if (!subs || subs.length === 0) return;
    await Promise.all(subs.map((sub) => this.outgoingEnqueue(sub, packet)));
  }

  async outgoingUpdate(client: PersistenceClient, packet: StoredPacket): Promise<void> {
    if (!packet.brokerId) {
      // A packet known only by its message id: find which queued packet it is.
      const queued = await this.#sent(client.id, packet.messageId);
      if (!queued) throw new Error('no such packet');
      packet.brokerId = queued.brokerId;
      packet.brokerCounter = queued.brokerCounter;
    }
    const queueKey = outgoingKey(client.id, packet.brokerId, packet.brokerCounter);
    const queued = await this.#get(queueKey);
    if (!queued) throw new Error('no such packet');
    const sent = this.#sentIds.get(client.id) ?? new Map<number, StoredPacket>();
    this.#sentIds.set(client.id, sent);
    const ops: { type: 'put' | 'del'; key: string; value?: Buffer }[] = [];
    if (queued.messageId !== undefined && queued.messageId > 0) {
      ops.push({ type: 'del', key: outgoingIdKey(client.id, queued.messageId) });
      sent.delete(queued.messageId);
    }
    const encoded = msgpack.encode(packet);
    ops.push({ type: 'put', key: outgoingIdKey(client.id, packet.messageId), value: encoded });
    ops.push({ type: 'put', key: queueKey, value: encoded });
    if (packet.messageId !== undefined) sent.set(packet.messageId, packet);
    await this.#write(() => this.#db.batch(ops as never, BUFFERS));
  }

  async outgoingClearMessageId(
    client: PersistenceClient,
    packet: StoredPacket,
  ): Promise<StoredPacket | undefined> {
    const queued = await this.#sent(client.id, packet.messageId);
    if (!queued) return undefined;
    this.#sentIds.get(client.id)?.delete(packet.messageId as number);
    await this.#write(() =>
      this.#db.batch([
        { type: 'del', key: outgoingIdKey(client.id, packet.messageId) },
        { type: 'del', key: outgoingKey(client.id, queued.brokerId, queued.brokerCounter) },
      ]),
    );
    return queued;
  }

  /**
   * The outgoing packet sent to the client under `messageId`: from memory, or from disk after a restart. A client
   * with no outgoing queue has no outgoing-id keys either (both are written and deleted together), so a PUBACK from a
   * clean session, which aedes still passes here, costs no read: 10,000 of them in a report flood did.
   */
  async #sent(clientId: string, messageId: number | undefined): Promise<StoredPacket | undefined> {
    const known = messageId === undefined ? undefined : this.#sentIds.get(clientId)?.get(messageId);
    if (known || !this.#mayHaveQueue.has(clientId)) return known;
    return this.#get(outgoingIdKey(clientId, messageId));
  }

  outgoingStream(client: PersistenceClient): Readable {
    const marker = this.#mayHaveQueue.get(client.id);
    if (marker === undefined) return Readable.from([]);
    const values = this.#values<StoredPacket>(clientKey(OUTGOING, client.id));
    const queues = this.#mayHaveQueue;
    return Readable.from(
      (async function* () {
        let found = false;
        for await (const packet of values) {
          found = true;
          yield packet;
        }
        if (!found && queues.get(client.id) === marker) queues.delete(client.id);
      })(),
    );
  }

  async incomingStorePacket(client: PersistenceClient, packet: StoredPacket): Promise<void> {
    const stored = new Packet(packet);
    stored.messageId = packet.messageId;
    await this.#put(incomingKey(client.id, packet.messageId), stored);
  }

  async incomingGetPacket(client: PersistenceClient, packet: StoredPacket): Promise<StoredPacket> {
    const stored = await this.#get(incomingKey(client.id, packet.messageId));
    if (!stored) throw new Error('no such packet');
    return stored;
  }

  async incomingDelPacket(client: PersistenceClient, packet: StoredPacket): Promise<void> {
    await this.#write(() => this.#db.del(incomingKey(client.id, packet.messageId)));
  }

  async cleanIncoming(client: PersistenceClient): Promise<void> {
    await this.#write(() => this.#db.clear(prefixRange(clientKey(INCOMING, client.id))));
  }

  async putWill(client: PersistenceClient, packet: StoredPacket): Promise<void> {
    packet.brokerId = this.#broker?.id;
    packet.clientId = client.id;
    this.#wills?.set(client.id, packet);
    const encoded = msgpack.encode(packet);
    const key = willKey(client.id);
    const deleting = this.#willDeletes.get(client.id);
    this.#willDeletes.delete(client.id);
    if (deleting?.equals(encoded) && this.#coalesced.cancel(key)) return; // still on disk, byte for byte
    await this.#coalesced.write(key, encoded);
  }

  async getWill(client: PersistenceClient): Promise<StoredPacket | undefined> {
    return this.#wills ? this.#wills.get(client.id) : this.#get(willKey(client.id));
  }

  async delWill(client: PersistenceClient): Promise<StoredPacket | undefined> {
    const key = willKey(client.id);
    const will = this.#wills ? this.#wills.get(client.id) : await this.#get(key);
    if (!will) return undefined;
    if (!this.#wills) {
      await this.#coalesced.write(key, null);
      return will;
    }
    this.#wills.delete(client.id);
    const stored = msgpack.encode(will);
    this.#willDeletes.set(client.id, stored);
    // Not awaited: aedes stores the client's new will right after (storeWill), which then withdraws or replaces this
    // delete. aedes ignores a failed will delete (storeWill's .finally); so does this: a stale 'offline' at worst.
    const gone = () => {
      if (this.#willDeletes.get(client.id) === stored) this.#willDeletes.delete(client.id);
    };
    this.#coalesced.write(key, null).then(gone, gone);
    return will;
  }

  /** Wills left by brokers not in `brokers` (all of them without it): aedes publishes those of dead brokers. */
  streamWill(brokers?: Record<string, unknown>): Readable {
    const dead = (will: StoredPacket) => !brokers?.[will.brokerId ?? ''];
    // Indexed: memory is what is stored, including deletes still on their way to disk.
    if (this.#wills) {
      const wills = [...this.#wills.values()].filter(dead);
      const key = (will: StoredPacket) => willKey(will.clientId ?? '');
      return Readable.from(wills.sort((a, b) => compareKeys(key(a), key(b))));
    }
    const values = this.#values<StoredPacket>(WILL);
    return Readable.from(
      (async function* () {
        for await (const will of values) if (dead(will)) yield will;
      })(),
    );
  }

  getClientList(topic: string): Readable {
    const ids = [...this.#byClient]
      .filter(([, own]) => own.has(topic))
      .map(([id]) => id)
      .sort((a, b) => compareKeys(clientKey(SUBSCRIPTIONS, a), clientKey(SUBSCRIPTIONS, b)));
    return Readable.from(ids);
  }

  async destroy(): Promise<void> {
    await this.#coalesced.settled();
    await this.#guard.stop();
    await this.#db.close();
  }

  async *#retained(filters: string[]): AsyncGenerator<StoredPacket> {
    for (const filter of filters) {
      const matcher = new QlobberTrue(MATCHER_OPTIONS);
      matcher.add(filter);
      // The key holds the topic, so only matching messages are decoded: a filter's range also spans its siblings
      // (the policy driver's scan of retained commands at start-up passes every device's state and availability).
      for await (const page of pages(this.#db.iterator({ ...retainedRange(filter), ...BUFFERS }))) {
        for (const [key, blob] of page) {
          if (matcher.test(key.slice(RETAINED.length))) yield decodeStored(blob) as StoredPacket;
        }
      }
    }
  }

  /** The values under `prefix`, decoded, a page per native call (pages.ts). */
  async *#valuePages<T>(prefix: string): AsyncGenerator<T[]> {
    for await (const page of pages(this.#db.values({ ...prefixRange(prefix), ...BUFFERS })))
      yield page.map((blob) => decodeStored(blob) as T);
  }

  async *#values<T>(prefix: string): AsyncGenerator<T> {
    for await (const page of this.#valuePages<T>(prefix)) yield* page;
  }

  async #get(key: string): Promise<StoredPacket | undefined> {
    const blob = await this.#db.get(key, BUFFERS);
    return blob === undefined ? undefined : (decodeStored(blob) as StoredPacket);
  }

  async #put(key: string, value: object): Promise<void> {
    const encoded = msgpack.encode(value);
    await this.#write(() => this.#db.put(key, encoded, BUFFERS));
  }

  /**
   * One entry per client and filter, kept exactly as aedes-persistence-level keeps it (the abstract suite's "QoS 0
   * subscriptions, restored but not matched"): a QoS 0 subscription mostly stays out, since aedes delivers to live
   * QoS 0 subscribers through its own subscriptions and this trie is for queueing to offline sessions.
   */
  #trieAdd(sub: StoredSubscription): void {
    const matched = this.#subscriptions.match(sub.topic);
    let add = matched.length === 0 ? sub.qos > 0 : true;
    for (const existing of matched) {
      if (existing.clientId !== sub.clientId) continue;
      if (existing.qos === sub.qos) {
        add = false;
        break;
      }
      this.#subscriptions.remove(existing.topic, existing);
      if (sub.qos === 0) add = false;
    }
    if (add) this.#subscriptions.add(sub.topic, sub);
  }

  #remember(sub: StoredSubscription): void {
    let own = this.#byClient.get(sub.clientId);
    if (!own) {
      own = new Map();
      this.#byClient.set(sub.clientId, own);
    }
    own.set(sub.topic, sub);
  }

  #trieRemove(sub: StoredSubscription): void {
    for (const existing of this.#subscriptions.match(sub.topic)) {
      if (existing.clientId === sub.clientId && existing.topic === sub.topic)
        this.#subscriptions.remove(sub.topic, sub);
    }
  }
}
