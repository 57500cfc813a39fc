import { describe, expect, it } from '@jest/globals';
import { SecretMemory } from './secret-memory.js';

describe('SecretMemory', () => {
  it('remembers Secrets per cluster, forgets one, or all of a cluster without touching the others', () => {
    const memory = new SecretMemory();
    memory.remember('uid-a', 'a-admin-token');
    memory.remember('uid-a', 'a-peer-token');
    memory.remember('uid-b', 'b-admin-token');
    expect(memory.has('uid-a', 'a-admin-token')).toBe(true);
    expect(memory.has('uid-a', 'b-admin-token')).toBe(false);

    memory.forgetSecret('uid-a', 'a-peer-token');
    expect(memory.has('uid-a', 'a-peer-token')).toBe(false);
    expect(memory.has('uid-a', 'a-admin-token')).toBe(true);

    memory.forget('uid-a');
    expect(memory.has('uid-a', 'a-admin-token')).toBe(false);
    expect(memory.has('uid-b', 'b-admin-token')).toBe(true);
    expect(memory.clusters).toBe(1);
  });
});
