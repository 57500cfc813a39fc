import { createHash } from 'node:crypto';
import { k8s } from '../k8s.js';
import { Construct } from 'constructs';
import type { Component } from '../api/names.js';
import { metadataOf, type ClusterContext } from '../context.js';
import { CONFIG_FILE } from '../settings.js';

export interface ComponentConfigProps {
  readonly context: ClusterContext;
  readonly component: Component;
  /** The service's settings, by its own config keys (the `DSM_CONFIG` file). */
  readonly settings: Readonly<Record<string, unknown>>;
  /**
   * Keys the running pods learn by other means (the admin API), left out of the digest.
   * @default none
   */
  readonly undigested?: readonly string[];
}

/** JSON with sorted keys: the same settings always give the same text and digest. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/** A component's non-secret settings as the `DSM_CONFIG` file, and their digest for the pod template. */
export class ComponentConfig extends Construct {
  readonly name: string;
  /** sha256 (hex) of the settings but the undigested keys. */
  readonly digest: string;

  constructor(scope: Construct, id: string, props: ComponentConfigProps) {
    super(scope, id);
    const { context, component, settings } = props;
    this.name = context.names.config(component);
    const skip = new Set(props.undigested ?? []);
    const digested = Object.fromEntries(Object.entries(settings).filter(([key]) => !skip.has(key)));
    this.digest = createHash('sha256').update(canonicalJson(digested)).digest('hex');
    new k8s.KubeConfigMap(this, 'Resource', {
      metadata: metadataOf(context, this.name, component),
      data: { [CONFIG_FILE]: `${JSON.stringify(JSON.parse(canonicalJson(settings)), null, 2)}\n` },
    });
  }
}
