declare module 'qlobber' {
  /** A topic matcher that only answers whether a topic matches any added filter. */
  export class QlobberTrue {
    constructor(options: {
      wildcard_one: string;
      wildcard_some: string;
      separator: string;
      match_empty_levels?: boolean;
    });
    add(topic: string): this;
    test(topic: string): boolean;
  }
}
