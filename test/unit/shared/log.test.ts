import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type BoardLog, createLogger, type Logger, silentLogger } from '../../../shared/log.js';

function capture(): { lines: () => Record<string, unknown>[]; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { lines, stream };
}

describe('shared logger (hub, device program, CLI)', () => {
  // The operator's override would change what these tests see; each sets it itself.
  beforeEach(() => vi.stubEnv('PHONES_AWAY_LOG_LEVEL', undefined));
  afterEach(() => vi.unstubAllEnvs());

  it('one interface: any Logger serves the board layer; the silent one drops everything', () => {
    const { lines, stream } = capture();
    const logger: Logger = createLogger('test', 'info', stream);
    const board: BoardLog = logger;
    board.warn({ board: 'uno-1' }, 'board lost');
    logger.child({ device: 'dev-1' }).info('connected');
    expect(lines()).toMatchObject([
      { name: 'test', level: 40, board: 'uno-1', msg: 'board lost' },
      { name: 'test', level: 30, device: 'dev-1', msg: 'connected' },
    ]);
    const quiet: BoardLog = silentLogger;
    expect(() => quiet.error({ err: new Error('x') }, 'dropped')).not.toThrow();
  });

  it('S7: passwords, tokens and secrets are removed from every line, nested one level too', () => {
    const { lines, stream } = capture();
    const logger = createLogger('probe', 'info', stream);
    logger.info({
      password: 'hunter2',
      token: 'tok',
      totpSecret: 'JBSWY3DP',
      user: { password: 'p2', name: 'a' },
    });
    const text = JSON.stringify(lines());
    for (const secret of ['hunter2', 'tok', 'JBSWY3DP', 'p2']) expect(text).not.toContain(secret);
    expect(lines()[0]).toMatchObject({ user: { name: 'a' } });
  });

  it('the level filters, and PHONES_AWAY_LOG_LEVEL overrides it (but never turns a silent logger on)', () => {
    const { lines, stream } = capture();
    createLogger('lvl', 'warn', stream).info('not shown');
    createLogger('lvl', 'warn', stream).error('shown');
    vi.stubEnv('PHONES_AWAY_LOG_LEVEL', 'debug');
    createLogger('lvl', 'warn', stream).debug('shown by override');
    createLogger('lvl', 'silent', stream).error('never');
    expect(lines().map((l) => l.msg)).toEqual(['shown', 'shown by override']);
  });
});
