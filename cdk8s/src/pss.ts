/**
 * The Pod Security Standard "restricted" (kubernetes.io/docs/concepts/security/pod-security-standards/,
 * baseline included) as a pure check of a pod spec, plus the hardening the compose file promises and the
 * standard does not require (read-only root filesystem, no service account token). Each problem names the
 * rule and the container. The apiserver's admission enforces the standard itself; this check lets a test
 * prove every pod template passes before any cluster sees it.
 */
type Obj = Record<string, unknown>;

interface SecurityContext {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  readOnlyRootFilesystem?: boolean;
  procMount?: string;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type?: string };
  seLinuxOptions?: { type?: string; user?: string; role?: string };
  appArmorProfile?: { type?: string };
  windowsOptions?: { hostProcess?: boolean };
  sysctls?: { name: string }[];
}

interface Container {
  name: string;
  ports?: { hostPort?: number }[];
  securityContext?: SecurityContext;
}

export interface PodSpecLike {
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  automountServiceAccountToken?: boolean;
  securityContext?: SecurityContext;
  containers?: Container[];
  initContainers?: Container[];
  ephemeralContainers?: Container[];
  volumes?: Obj[];
}

/** The volume types the restricted profile allows. */
const VOLUME_TYPES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'image',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);
const SELINUX_TYPES = new Set([
  '',
  'container_t',
  'container_init_t',
  'container_kvm_t',
  'container_engine_t',
]);

export function podSecurityProblems(pod: PodSpecLike): string[] {
  const problems: string[] = [];
  const fail = (rule: string, where: string, what: string) => problems.push(`${rule} (${where}): ${what}`);
  const podContext = pod.securityContext ?? {};
  const containers = [
    ...(pod.initContainers ?? []),
    ...(pod.containers ?? []),
    ...(pod.ephemeralContainers ?? []),
  ];

  // ---- baseline
  if (pod.hostNetwork === true) fail('hostNamespaces', 'pod', 'hostNetwork');
  if (pod.hostPID === true) fail('hostNamespaces', 'pod', 'hostPID');
  if (pod.hostIPC === true) fail('hostNamespaces', 'pod', 'hostIPC');
  for (const volume of pod.volumes ?? []) {
    const type = Object.keys(volume).find((key) => key !== 'name') ?? '(none)';
    if (type === 'hostPath') fail('hostPathVolumes', `volume ${String(volume.name)}`, 'hostPath');
    // ---- restricted
    if (!VOLUME_TYPES.has(type))
      fail('volumeTypes', `volume ${String(volume.name)}`, `${type} is not allowed`);
  }
  for (const sysctl of podContext.sysctls ?? []) {
    if (!SAFE_SYSCTLS.has(sysctl.name)) fail('sysctls', 'pod', `${sysctl.name} is not a safe sysctl`);
  }
  const contexts: [string, SecurityContext][] = [
    ['pod', podContext],
    ...containers.map((c): [string, SecurityContext] => [`container ${c.name}`, c.securityContext ?? {}]),
  ];
  for (const [where, sc] of contexts) {
    if (sc.windowsOptions?.hostProcess === true) fail('hostProcess', where, 'windowsOptions.hostProcess');
    if (sc.seccompProfile?.type === 'Unconfined') fail('seccomp', where, 'seccompProfile Unconfined');
    const selinux = sc.seLinuxOptions;
    if (selinux !== undefined) {
      if (!SELINUX_TYPES.has(selinux.type ?? '')) fail('seLinux', where, `type ${selinux.type}`);
      if (selinux.user !== undefined || selinux.role !== undefined)
        fail('seLinux', where, 'user or role set');
    }
    const apparmor = sc.appArmorProfile?.type;
    if (apparmor !== undefined && apparmor !== 'RuntimeDefault' && apparmor !== 'Localhost') {
      fail('appArmor', where, `appArmorProfile ${apparmor}`);
    }
    if (sc.runAsUser === 0) fail('runAsUser', where, 'runAsUser 0 (root)');
  }

  for (const container of containers) {
    const where = `container ${container.name}`;
    const sc = container.securityContext ?? {};
    if (sc.privileged === true) fail('privileged', where, 'privileged');
    for (const port of container.ports ?? []) {
      if ((port.hostPort ?? 0) !== 0) fail('hostPorts', where, `hostPort ${port.hostPort}`);
    }
    if (sc.procMount !== undefined && sc.procMount !== 'Default') fail('procMount', where, sc.procMount);
    // ---- restricted
    if (sc.allowPrivilegeEscalation !== false) {
      fail('allowPrivilegeEscalation', where, 'allowPrivilegeEscalation must be false');
    }
    if ((sc.runAsNonRoot ?? podContext.runAsNonRoot) !== true)
      fail('runAsNonRoot', where, 'runAsNonRoot must be true');
    const seccomp = sc.seccompProfile?.type ?? podContext.seccompProfile?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') {
      fail('seccomp', where, 'seccompProfile must be RuntimeDefault or Localhost');
    }
    if (!(sc.capabilities?.drop ?? []).includes('ALL'))
      fail('capabilities', where, 'capabilities must drop ALL');
    for (const added of sc.capabilities?.add ?? []) {
      if (added !== 'NET_BIND_SERVICE') fail('capabilities', where, `adds ${added}`);
    }
    // ---- ours (compose/docker-compose.yml's hardening)
    if (sc.readOnlyRootFilesystem !== true)
      fail('dsm:readOnlyRootFilesystem', where, 'root filesystem writable');
  }
  if (pod.automountServiceAccountToken !== false) {
    fail(
      'dsm:serviceAccountToken',
      'pod',
      'automountServiceAccountToken must be false: no DSM pod calls the API',
    );
  }
  return problems;
}
