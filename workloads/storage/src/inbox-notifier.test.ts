import { describe, expect, it } from '@jest/globals';
import { InboxNotifier, MAX_RECIPIENTS, type InboxNudge } from './inbox-notifier.js';

/** A send that records each nudge and answers only when the test says so. */
function recorder() {
  const sent: { core: string; nudge: InboxNudge; answer: (ok: boolean) => void }[] = [];
  const send = (core: string, nudge: InboxNudge) =>
    new Promise<void>((resolve, reject) =>
      sent.push({ core, nudge, answer: (ok) => (ok ? resolve() : reject(new Error('down'))) }),
    );
  return { sent, send };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('InboxNotifier', () => {
  it('sends one nudge per core at once, and what arrives meanwhile in one more', async () => {
    const { sent, send } = recorder();
    const notifier = new InboxNotifier(['core-a:8765', 'core-b:8765'], send);
    notifier.transferTo('alice');
    expect(sent.map((s) => [s.core, s.nudge])).toEqual([
      ['core-a:8765', { recipients: ['alice'] }],
      ['core-b:8765', { recipients: ['alice'] }],
    ]);
    for (const name of ['bob', 'carol', 'bob']) notifier.transferTo(name);
    expect(sent).toHaveLength(2);
    sent[0]!.answer(true);
    sent[1]!.answer(false); // a failed nudge changes nothing: the next one still goes
    await tick();
    expect(sent.slice(2).map((s) => [s.core, s.nudge])).toEqual([
      ['core-a:8765', { recipients: ['bob', 'carol'] }],
      ['core-b:8765', { recipients: ['bob', 'carol'] }],
    ]);
    sent[2]!.answer(true);
    sent[3]!.answer(true);
    await tick();
    expect(sent).toHaveLength(4);
  });

  it('names nobody (every inbox) once more recipients wait than one nudge may name', async () => {
    const { sent, send } = recorder();
    const notifier = new InboxNotifier(['core:8765'], send);
    notifier.transferTo('first');
    for (let i = 0; i <= MAX_RECIPIENTS; i++) notifier.transferTo(`r${i}`);
    sent[0]!.answer(true);
    await tick();
    expect(sent[1]!.nudge).toEqual({});
  });
});
