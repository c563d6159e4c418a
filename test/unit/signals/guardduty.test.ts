import { describe, expect, it } from "vitest";
import { type GuardDutySignal, parseEvent, parseEventText } from "../../../packages/core/src/index.ts";
import { eksNodeFromTags } from "../../../packages/core/src/signals/guardduty.ts";
import { fixtureText, listFixtures, loadFixture, must, objectAt } from "../../helpers/fixtures.ts";

function parseFinding(raw: unknown): GuardDutySignal {
  const parsed = typeof raw === "string" ? parseEventText(raw) : parseEvent(raw);
  if (parsed.status !== "signal" || parsed.signal.family !== "guardduty") {
    throw new Error(`expected a GuardDuty signal, got ${JSON.stringify(parsed)}`);
  }
  return parsed.signal;
}

interface Expected {
  findingType: string;
  severity: number;
  sample: boolean;
  resourceType: string;
  resourceRole: string;
  cluster?: string;
  instanceId?: string;
  eksNode?: { cluster: string; nodegroup?: string; autoScalingGroup?: string };
  workload?: { namespace: string; name: string };
  kubernetesUser?: string;
  process?: string;
  remoteIp?: string;
}

const ASG = "eks-general-8ac6f1b2-1a2b-3c4d-5e6f-7a8b9c0d1e2f";
const PROD_NODE = { cluster: "prod-eks", nodegroup: "general", autoScalingGroup: ASG };
const ALICE = "arn:aws:sts::111122223333:assumed-role/DevOpsEngineer/alice";

/** What each GuardDuty fixture must parse to. Absent keys must be absent from the signal. */
const EXPECTED: Record<string, Expected> = {
  "guardduty/attacksequence-eks-compromisedcluster/exec-c2-cryptomining-sequence.json": {
    findingType: "AttackSequence:EKS/CompromisedCluster",
    severity: 9,
    sample: false,
    resourceType: "EKSCluster",
    resourceRole: "TARGET",
    cluster: "prod-eks",
  },
  "guardduty/backdoor-ec2-c-cactivity-b/eks-node-actor.json": {
    findingType: "Backdoor:EC2/C&CActivity.B",
    severity: 8,
    sample: false,
    resourceType: "Instance",
    resourceRole: "ACTOR",
    instanceId: "i-0a7b8c9d0e1f23456",
    eksNode: PROD_NODE,
    remoteIp: "198.51.100.66",
  },
  "guardduty/backdoor-runtime-c-cactivity-b-dns/eks-node-instance.json": {
    findingType: "Backdoor:Runtime/C&CActivity.B!DNS",
    severity: 8,
    sample: false,
    resourceType: "Instance",
    resourceRole: "TARGET",
    instanceId: "i-0f1e2d3c4b5a69788",
    eksNode: PROD_NODE,
    process: "curl",
  },
  "guardduty/credentialaccess-kubernetes-maliciousipcaller/compromised-iam-user-secrets-list-updated-count5.json": {
    findingType: "CredentialAccess:Kubernetes/MaliciousIPCaller",
    severity: 8,
    sample: false,
    resourceType: "EKSCluster",
    resourceRole: "TARGET",
    cluster: "prod-eks",
    kubernetesUser: ALICE,
    remoteIp: "198.51.100.77",
  },
  "guardduty/credentialaccess-kubernetes-maliciousipcaller/compromised-iam-user-secrets-list.json": {
    findingType: "CredentialAccess:Kubernetes/MaliciousIPCaller",
    severity: 8,
    sample: false,
    resourceType: "EKSCluster",
    resourceRole: "TARGET",
    cluster: "prod-eks",
    kubernetesUser: ALICE,
    remoteIp: "198.51.100.77",
  },
  "guardduty/cryptocurrency-runtime-bitcointool-b-dns/standalone-docker-container-not-eks.json": {
    findingType: "CryptoCurrency:Runtime/BitcoinTool.B!DNS",
    severity: 8,
    sample: false,
    resourceType: "Container",
    resourceRole: "TARGET",
    instanceId: "i-03c4d5e6f7a8b9c0d",
    process: "xmrig",
  },
  "guardduty/cryptocurrency-runtime-bitcointool-b/eks-pod.json": {
    findingType: "CryptoCurrency:Runtime/BitcoinTool.B",
    severity: 8,
    sample: false,
    resourceType: "EKSCluster",
    resourceRole: "TARGET",
    cluster: "prod-eks",
    instanceId: "i-0f1e2d3c4b5a69788",
    eksNode: PROD_NODE,
    workload: { namespace: "shop", name: "web-6d9f7c8b5-x2kqz" },
    process: "xmrig",
    remoteIp: "198.51.100.200",
  },
  "guardduty/execution-kubernetes-execinkubesystempod/exec-aws-node-by-ci-serviceaccount.json": {
    findingType: "Execution:Kubernetes/ExecInKubeSystemPod",
    severity: 5,
    sample: false,
    resourceType: "EKSCluster",
    resourceRole: "TARGET",
    cluster: "prod-eks",
    workload: { namespace: "kube-system", name: "aws-node-7xk2p" },
    kubernetesUser: "system:serviceaccount:ci:deployer",
    remoteIp: "10.20.31.112",
  },
  "guardduty/persistence-kubernetes-successfulanonymousaccess/sample-generated.json": {
    findingType: "Persistence:Kubernetes/SuccessfulAnonymousAccess",
    severity: 8,
    sample: true,
    resourceType: "EKSCluster",
    resourceRole: "TARGET",
    cluster: "GeneratedFindingEKSClusterName",
    kubernetesUser: "system:anonymous",
    remoteIp: "175.16.199.1",
  },
  "guardduty/policy-kubernetes-anonymousaccessgranted/clusterrolebinding-anon-view.json": {
    findingType: "Policy:Kubernetes/AnonymousAccessGranted",
    severity: 8,
    sample: false,
    resourceType: "EKSCluster",
    resourceRole: "TARGET",
    cluster: "prod-eks",
    kubernetesUser: "arn:aws:sts::111122223333:assumed-role/PlatformAdmin/jdoe",
    remoteIp: "203.0.113.45",
  },
  "guardduty/policy-s3-bucketblockpublicaccessdisabled/bucket-bpa-disabled.json": {
    findingType: "Policy:S3/BucketBlockPublicAccessDisabled",
    severity: 2,
    sample: false,
    resourceType: "S3Bucket",
    resourceRole: "TARGET",
    remoteIp: "198.51.100.14",
  },
  "guardduty/privilegeescalation-kubernetes-privilegedcontainer/blueprint-transformed.json": {
    findingType: "PrivilegeEscalation:Kubernetes/PrivilegedContainer",
    severity: 5,
    sample: false,
    resourceType: "EKSCluster",
    resourceRole: "TARGET",
    cluster: "guardduty-blueprint",
    workload: { namespace: "argocd", name: "privileged-pod" },
    kubernetesUser: "system:serviceaccount:argocd:argocd-application-controller",
    remoteIp: "10.0.205.129",
  },
  "guardduty/trojan-ec2-blackholetraffic-dns/sample-generated.json": {
    findingType: "Trojan:EC2/BlackholeTraffic!DNS",
    severity: 5,
    sample: true,
    resourceType: "Instance",
    resourceRole: "TARGET",
    instanceId: "i-99999999",
  },
  "guardduty/unauthorizedaccess-ec2-sshbruteforce/eks-worker-target.json": {
    findingType: "UnauthorizedAccess:EC2/SSHBruteForce",
    severity: 2,
    sample: false,
    resourceType: "Instance",
    resourceRole: "TARGET",
    instanceId: "i-0f1e2d3c4b5a69788",
    eksNode: PROD_NODE,
    remoteIp: "198.51.100.9",
  },
  "guardduty/unauthorizedaccess-ec2-sshbruteforce/non-eks-instance.json": {
    findingType: "UnauthorizedAccess:EC2/SSHBruteForce",
    severity: 2,
    sample: false,
    resourceType: "Instance",
    resourceRole: "TARGET",
    instanceId: "i-05e6f7a8b9c0d1e2f",
    remoteIp: "203.0.113.201",
  },
};

describe("parseEvent (GuardDuty)", () => {
  it("has an expectation for every GuardDuty fixture", () => {
    // prepare
    const files = listFixtures("guardduty");

    // act
    const covered = Object.keys(EXPECTED).sort();

    // assess
    expect(files.length).toBeGreaterThan(0);
    expect(covered).toEqual(files);
  });

  it.each(Object.entries(EXPECTED))("normalises %s", (relPath, expected) => {
    // prepare
    const envelope = loadFixture(relPath);
    const detail = objectAt(envelope, "detail");

    // act
    const signal = parseFinding(fixtureText(relPath));

    // assess
    expect(signal.family).toBe("guardduty");
    expect(signal.envelopeId).toBe(envelope.id);
    expect(signal.findingId).toBe(detail.id);
    expect(signal.time).toBe(detail.updatedAt);
    expect(signal.findingType).toBe(expected.findingType);
    expect(signal.severity).toBe(expected.severity);
    expect(signal.sample).toBe(expected.sample);
    expect(signal.resourceType).toBe(expected.resourceType);
    expect(signal.resourceRole).toBe(expected.resourceRole);
    expect(signal.cluster?.name).toBe(expected.cluster);
    expect(signal.instance?.instanceId).toBe(expected.instanceId);
    expect(signal.instance?.eksNode).toEqual(expected.eksNode);
    expect(signal.workload?.namespace).toBe(expected.workload?.namespace);
    expect(signal.workload?.name).toBe(expected.workload?.name);
    expect(signal.kubernetesUser?.username).toBe(expected.kubernetesUser);
    expect(signal.process?.name).toBe(expected.process);
    expect(signal.remote?.ip).toBe(expected.remoteIp);
  });

  it("derives the EKS node from the managed node group tags, with node group and Auto Scaling group", () => {
    // prepare
    const text = fixtureText("guardduty/backdoor-ec2-c-cactivity-b/eks-node-actor.json");

    // act
    const signal = parseFinding(text);

    // assess
    const instance = must(signal.instance, "instance");
    expect(instance.eksNode).toEqual({ cluster: "prod-eks", nodegroup: "general", autoScalingGroup: ASG });
    expect(instance.vpcId).toBe("vpc-0a1b2c3d4e5f67890");
    expect(instance.availabilityZone).toBe("eu-west-1b");
    expect(instance.networkInterfaces).toEqual([
      {
        networkInterfaceId: "eni-0a7b8c9d0e1f23456",
        securityGroupIds: ["sg-0c1d2e3f4a5b6c7d8"],
        vpcId: "vpc-0a1b2c3d4e5f67890",
        subnetId: "subnet-0a1b2c3d4e5f60002",
        privateIp: "10.20.32.9",
      },
    ]);
    expect(signal.remote).toEqual({ ip: "198.51.100.66", port: 443, country: "Netherlands" });
  });

  it("leaves eksNode undefined for an instance without EKS tags", () => {
    // prepare
    const text = fixtureText("guardduty/unauthorizedaccess-ec2-sshbruteforce/non-eks-instance.json");

    // act
    const signal = parseFinding(text);

    // assess
    const instance = must(signal.instance, "instance");
    expect(instance.tags).toEqual({ Name: "legacy-bastion", env: "prod" });
    expect(instance.eksNode).toBeUndefined();
    expect(signal.cluster).toBeUndefined();
  });

  it("leaves eksNode undefined for the instance that runs a standalone container", () => {
    // prepare
    const text = fixtureText(
      "guardduty/cryptocurrency-runtime-bitcointool-b-dns/standalone-docker-container-not-eks.json",
    );

    // act
    const signal = parseFinding(text);

    // assess
    expect(must(signal.instance, "instance").eksNode).toBeUndefined();
    expect(signal.process).toEqual({ name: "xmrig", executablePath: "/tmp/.cache/xmrig", pid: 40213 });
    expect(signal.remote).toBeUndefined();
  });

  it("reads the pod's containers with their privileged flag", () => {
    // prepare
    const text = fixtureText("guardduty/privilegeescalation-kubernetes-privilegedcontainer/blueprint-transformed.json");

    // act
    const signal = parseFinding(text);

    // assess
    expect(signal.workload).toEqual({
      name: "privileged-pod",
      namespace: "argocd",
      type: "pods",
      uid: "33a3c89e-3280-474d-b8cb-fdf03394fc15",
      hostNetwork: false,
      containers: [{ name: "app", image: "centos", privileged: true }],
    });
  });

  it("reads the Kubernetes user with groups and the sessionName array", () => {
    // prepare
    const text = fixtureText(
      "guardduty/credentialaccess-kubernetes-maliciousipcaller/compromised-iam-user-secrets-list.json",
    );

    // act
    const signal = parseFinding(text);

    // assess
    expect(signal.kubernetesUser).toEqual({
      username: ALICE,
      uid: "aws-iam-authenticator:111122223333:AROAEXAMPLEROLEID0002",
      groups: ["platform-admins", "system:authenticated"],
      sessionNames: ["alice"],
    });
    expect(signal.remote).toEqual({ ip: "198.51.100.77", country: "Seychelles" });
  });

  it("keeps the finding id of an updated finding and reads its new count and updatedAt", () => {
    // prepare
    const first = fixtureText(
      "guardduty/credentialaccess-kubernetes-maliciousipcaller/compromised-iam-user-secrets-list.json",
    );
    const updated = fixtureText(
      "guardduty/credentialaccess-kubernetes-maliciousipcaller/compromised-iam-user-secrets-list-updated-count5.json",
    );

    // act
    const a = parseFinding(first);
    const b = parseFinding(updated);

    // assess
    expect(b.findingId).toBe(a.findingId);
    expect(a.count).toBe(1);
    expect(b.count).toBe(5);
    expect(b.createdAt).toBe(a.createdAt);
    expect(b.updatedAt).toBe("2025-05-08T04:52:36.904Z");
    expect(b.envelopeId).not.toBe(a.envelopeId);
  });

  it("reads the runtime process of a node finding", () => {
    // prepare
    const text = fixtureText("guardduty/backdoor-runtime-c-cactivity-b-dns/eks-node-instance.json");

    // act
    const signal = parseFinding(text);

    // assess
    expect(signal.process).toEqual({ name: "curl", executablePath: "/usr/bin/curl", pid: 1873 });
    expect(signal.featureName).toBe("RuntimeMonitoring");
    expect(signal.cluster).toBeUndefined();
  });

  it("reads the sample flag of GuardDuty's generated findings", () => {
    // prepare
    const envelope = loadFixture("guardduty/trojan-ec2-blackholetraffic-dns/sample-generated.json");

    // act
    const signal = parseFinding(envelope);

    // assess
    expect(objectAt(envelope, "detail", "service", "additionalInfo").sample).toBe(true);
    expect(signal.sample).toBe(true);
    expect(must(signal.instance).eksNode).toBeUndefined();
  });

  it('reads a sample flag written as the string "true"', () => {
    // prepare
    const envelope = loadFixture("guardduty/persistence-kubernetes-successfulanonymousaccess/sample-generated.json");
    objectAt(envelope, "detail", "service", "additionalInfo").sample = "true";

    // act
    const signal = parseFinding(envelope);

    // assess
    expect(signal.sample).toBe(true);
  });

  it("derives the cluster from eksClusterDetails for a finding with a cluster and no instance", () => {
    // prepare
    const text = fixtureText("guardduty/attacksequence-eks-compromisedcluster/exec-c2-cryptomining-sequence.json");

    // act
    const signal = parseFinding(text);

    // assess
    expect(signal.cluster).toEqual({
      name: "prod-eks",
      arn: "arn:aws:eks:eu-west-1:111122223333:cluster/prod-eks",
      vpcId: "vpc-0a1b2c3d4e5f67890",
      tags: { env: "prod", "alpha.eksctl.io/cluster-name": "prod-eks" },
    });
    expect(signal.instance).toBeUndefined();
    expect(signal.remote).toBeUndefined();
  });

  it("reads a severity written as a string of digits, and refuses one that is not a number, naming detail.severity", () => {
    // prepare
    const digits = loadFixture("guardduty/cryptocurrency-runtime-bitcointool-b/eks-pod.json");
    objectAt(digits, "detail").severity = "8.0";
    const words = loadFixture("guardduty/cryptocurrency-runtime-bitcointool-b/eks-pod.json");
    objectAt(words, "detail").severity = "high";

    // act
    const signal = parseFinding(digits);
    const act = () => parseEvent(words);

    // assess
    expect(signal.severity).toBe(8);
    expect(signal.unreadable).toBeUndefined();
    expect(act).toThrow(/detail\.severity/);
  });
});

describe("eksNodeFromTags", () => {
  it.each([
    [
      { "eks:cluster-name": "a", "eks:nodegroup-name": "ng" },
      { cluster: "a", nodegroup: "ng" },
    ],
    [{ "kubernetes.io/cluster/b": "owned" }, { cluster: "b" }],
    [
      { "kubernetes.io/cluster/c": "shared", "aws:autoscaling:groupName": "asg" },
      { cluster: "c", autoScalingGroup: "asg" },
    ],
    [{ "alpha.eksctl.io/cluster-name": "d" }, { cluster: "d" }],
    [{ "kubernetes.io/cluster/e": "something-else" }, undefined],
    [{ Name: "legacy-bastion" }, undefined],
  ])("reads %j as %j", (tags, expected) => {
    // prepare
    const input: Record<string, string> = tags;

    // act
    const node = eksNodeFromTags(input);

    // assess
    expect(node).toEqual(expected);
  });
});

describe("parseGuardDuty: the Kubernetes side of a finding", () => {
  it("names the binding an anonymous-access finding is about, from the API call GuardDuty saw", () => {
    const s = parseFinding(
      loadFixture("guardduty/policy-kubernetes-anonymousaccessgranted/clusterrolebinding-anon-view.json"),
    );
    expect(s.kubernetesApiCall).toMatchObject({
      verb: "create",
      requestUri: "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
      resource: "clusterrolebindings",
      resourceName: "anon-view",
      statusCode: 201,
    });
    expect(s.roleBinding).toBeUndefined();
  });

  it("reads kubernetesRoleBindingDetails and kubernetesRoleDetails, leaving out their null fields", () => {
    const raw = loadFixture("guardduty/policy-kubernetes-anonymousaccessgranted/clusterrolebinding-anon-view.json");
    const action = objectAt(raw, "detail", "service", "action");
    action.kubernetesRoleBindingDetails = {
      kind: "ClusterRoleBinding",
      name: "anon-view",
      uid: "0d7c1e2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f",
      roleRefKind: "ClusterRole",
      roleRefName: "view",
    };
    action.kubernetesRoleDetails = { kind: "ClusterRole", name: "view", uid: null };
    const s = parseFinding(raw);
    expect(s.roleBinding).toEqual({
      kind: "ClusterRoleBinding",
      name: "anon-view",
      uid: "0d7c1e2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f",
      roleRefKind: "ClusterRole",
      roleRefName: "view",
    });
    expect(s.role).toEqual({ kind: "ClusterRole", name: "view" });
  });

  it("says when a workload shares the node's network (a NetworkPolicy does not apply to it)", () => {
    const exec = parseFinding(
      loadFixture("guardduty/execution-kubernetes-execinkubesystempod/exec-aws-node-by-ci-serviceaccount.json"),
    );
    expect(exec.workload?.hostNetwork).toBe(true);
    const miner = parseFinding(loadFixture("guardduty/cryptocurrency-runtime-bitcointool-b/eks-pod.json"));
    expect(miner.workload?.hostNetwork).toBe(false);
  });
});
