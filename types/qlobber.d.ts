interface QlobberOptions {
  wildcard_one: string;
  wildcard_some: string;
  separator: string;
  match_empty_levels?: boolean;
}

declare module 'qlobber' {
  /** A topic matcher that only answers whether a topic matches any added filter. */
  export class QlobberTrue {
    constructor(options: QlobberOptions);
    add(topic: string): this;
    test(topic: string): boolean;
  }
}

declare module 'qlobber/aedes/qlobber-sub.js' {
  /**
   * qlobber's trie for aedes subscriptions: one entry per client and filter, matched against a topic. Values carry
   * clientId, topic and qos (rh, rap, nl kept too); match() returns them as stored.
   */
  class QlobberSub<T extends { clientId: string; topic: string }> {
    constructor(options: QlobberOptions);
    add(topic: string, value: T): this;
    remove(topic: string, value?: T): this;
    match(topic: string): T[];
    readonly subscriptionsCount: number;
  }
  export = QlobberSub;
}
