/**
 * The real Kubernetes API server of the tests (scripts/kube-test-server.ts says where it comes from): `npm test` starts
 * one for the whole run; a test file run alone starts its own, which stops when the file's worker exits or at `stop()`.
 * Nothing but the API server runs (no scheduler, kubelet or controllers): pods stay Pending, nothing enforces
 * NetworkPolicies, deleted namespaces stay Terminating. Use `uniqueName` for every namespace and node a test makes.
 */
import { randomBytes } from "node:crypto";
import { createKubeClient, type KubeClient } from "../../packages/core/src/kubernetes/client.ts";
import {
  type KubeTestServerInfo,
  readCa,
  sharedKubeServer,
  startKubeServer,
  stopKubeServer,
} from "../../scripts/kube-test-server.ts";

export interface KubeTestServer {
  info: KubeTestServerInfo;
  caPem: string;
  /** system:masters: for setting up objects. */
  admin: KubeClient;
  /** `kube-test-limited` (groups `kube-test:limited`, `system:authenticated`): no rights until a test binds some. */
  limited: KubeClient;
  /** The limited identity's group, to bind roles to. */
  limitedGroup: string;
  stop(): Promise<void>;
}

/**
 * The run's server, or one of this file's own with `{ own: true }`: for a test that changes what the limited identity
 * may do cluster-wide (binding a ClusterRole to its group), which would change the answers other files get on the
 * shared server.
 */
export async function startKubeApiServer(options: { own?: boolean } = {}): Promise<KubeTestServer> {
  const shared = options.own ? undefined : sharedKubeServer();
  const info = shared ?? startKubeServer();
  const caPem = readCa(info);
  const client = (token: string) => createKubeClient({ server: info.server, caPem, token: () => token });
  return {
    info,
    caPem,
    admin: client(info.adminToken),
    limited: client(info.limitedToken),
    limitedGroup: "kube-test:limited",
    async stop() {
      if (!shared) stopKubeServer(info);
    },
  };
}

/** A name no other test (or earlier run on the same server) uses: `prefix-<8 hex>`, valid as a DNS label. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}
