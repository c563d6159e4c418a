import { describe, expect, it } from "vitest";
import { type CloudTrailSignal, parseEvent, parseEventText } from "../../../packages/core/src/index.ts";
import { ctTime } from "../../../packages/core/src/signals/cloudtrail-quirks.ts";
import { fixtureText, type JsonObject, listFixtures, loadFixture, must, objectAt } from "../../helpers/fixtures.ts";

type EventName = CloudTrailSignal["eventName"];
type SignalOf<N extends EventName> = Extract<CloudTrailSignal, { eventName: N }>;

function parseCloudTrail(raw: unknown): CloudTrailSignal {
  const parsed = typeof raw === "string" ? parseEventText(raw) : parseEvent(raw);
  if (parsed.status !== "signal" || parsed.signal.family !== "cloudtrail") {
    throw new Error(`expected a CloudTrail signal, got ${JSON.stringify(parsed)}`);
  }
  return parsed.signal;
}

function signalAs<N extends EventName>(raw: unknown, eventName: N): SignalOf<N> {
  const signal = parseCloudTrail(raw);
  if (signal.eventName !== eventName) throw new Error(`expected ${eventName}, got ${signal.eventName}`);
  return signal as SignalOf<N>;
}

const SG = "sg-0a1b2c3d4e5f60718";
const SGI = "cloudtrail/authorize-security-group-ingress";
const MSR = "cloudtrail/modify-security-group-rules";
const UCC = "cloudtrail/update-cluster-config";

const tcp = (port: number) => ({ protocol: "tcp", fromPort: port, toPort: port });

/** The normalised fields every CloudTrail fixture must parse to (a subset of the signal, arrays exact). */
const EXPECTED: Record<string, JsonObject> = {
  "cloudtrail/associate-access-policy/admin-namespace-kube-system.json": {
    source: "aws.eks",
    eventName: "AssociateAccessPolicy",
    cluster: "prod-eks",
    principalArn: "arn:aws:iam::111122223333:role/external-ci-deployer",
    policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy",
    accessScope: { type: "namespace", namespaces: ["kube-system"] },
  },
  "cloudtrail/associate-access-policy/cluster-admin-encoded-arn.json": {
    eventName: "AssociateAccessPolicy",
    cluster: "prod-eks",
    principalArn: "arn:aws:iam::111122223333:role/external-ci-deployer",
    policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
    accessScope: { type: "cluster", namespaces: [] },
  },
  "cloudtrail/associate-access-policy/cluster-admin-plain-arn.json": {
    eventName: "AssociateAccessPolicy",
    cluster: "prod-eks",
    principalArn: "arn:aws:iam::111122223333:role/contractor-admin",
    policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
    accessScope: { type: "cluster", namespaces: [] },
  },
  "cloudtrail/associate-access-policy/view-policy.json": {
    eventName: "AssociateAccessPolicy",
    principalArn: "arn:aws:iam::111122223333:role/observability-agent",
    policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
    accessScope: { type: "cluster", namespaces: [] },
  },
  [`${SGI}/all-ports-tcp-open.json`]: {
    source: "aws.ec2",
    eventName: "AuthorizeSecurityGroupIngress",
    groupId: SG,
    permissions: [{ protocol: "tcp", fromPort: 0, toPort: 65535, ipv4: [{ cidr: "0.0.0.0/0" }], ipv6: [] }],
    createdRules: [{ ruleId: "sgr-08091a2b3c4d5e6f7", ...tcp(0), toPort: 65535, cidrIpv4: "0.0.0.0/0" }],
  },
  [`${SGI}/all-traffic-ipv4-open.json`]: {
    eventName: "AuthorizeSecurityGroupIngress",
    groupId: SG,
    permissions: [{ protocol: "-1", ipv4: [{ cidr: "0.0.0.0/0", description: "debug" }], ipv6: [] }],
    createdRules: [
      { ruleId: "sgr-01f2e3d4c5b6a7980", protocol: "-1", fromPort: -1, toPort: -1, cidrIpv4: "0.0.0.0/0" },
    ],
  },
  [`${SGI}/failed-duplicate.json`]: {
    eventName: "AuthorizeSecurityGroupIngress",
    groupId: SG,
    error: { code: "Client.InvalidPermission.Duplicate" },
    permissions: [{ ...tcp(22), ipv4: [{ cidr: "0.0.0.0/0" }] }],
    createdRules: [],
  },
  [`${SGI}/failed-unauthorized-world.json`]: {
    eventName: "AuthorizeSecurityGroupIngress",
    groupId: SG,
    error: { code: "Client.UnauthorizedOperation" },
    permissions: [{ ...tcp(22), ipv4: [{ cidr: "0.0.0.0/0" }] }],
    createdRules: [],
  },
  [`${SGI}/flat-cidrip-ssh-open.json`]: {
    eventName: "AuthorizeSecurityGroupIngress",
    groupId: SG,
    permissions: [{ ...tcp(22), ipv4: [{ cidr: "0.0.0.0/0" }], ipv6: [], prefixListIds: [], groups: [] }],
    createdRules: [{ ruleId: "sgr-09a2b3c4d5e6f7081", ...tcp(22), cidrIpv4: "0.0.0.0/0" }],
  },
  [`${SGI}/ipv4-ipv6-ssh-rdp-open.json`]: {
    eventName: "AuthorizeSecurityGroupIngress",
    groupId: "sg-0b7e3c9a1d2f4e5a6",
    permissions: [
      {
        ...tcp(22),
        ipv4: [{ cidr: "0.0.0.0/0", description: "temp ssh" }],
        ipv6: [{ cidr: "::/0", description: "temp ssh" }],
      },
      { ...tcp(3389), ipv4: [], ipv6: [{ cidr: "::/0" }] },
    ],
    createdRules: [
      { ruleId: "sgr-01a2b3c4d5e6f7a80", ...tcp(22), cidrIpv4: "0.0.0.0/0" },
      { ruleId: "sgr-02b3c4d5e6f7a8b91", ...tcp(22), cidrIpv6: "::/0" },
      { ruleId: "sgr-03c4d5e6f7a8b9ca2", ...tcp(3389), cidrIpv6: "::/0" },
    ],
  },
  [`${SGI}/legacy-2018-ipv6-ssh-open-verbatim.json`]: {
    eventName: "AuthorizeSecurityGroupIngress",
    account: "012345678901",
    region: "us-east-1",
    groupId: "sg-0fbaac03a0ed37aab",
    permissions: [{ ...tcp(22), ipv4: [], ipv6: [{ cidr: "::/0", description: "open 22 anywhere" }] }],
    createdRules: [],
  },
  [`${SGI}/legacy-no-rule-set-ssh-open.json`]: {
    eventName: "AuthorizeSecurityGroupIngress",
    groupId: SG,
    permissions: [{ ...tcp(22), ipv4: [{ cidr: "0.0.0.0/0" }], ipv6: [] }],
    createdRules: [],
  },
  [`${SGI}/prefix-list-https.json`]: {
    eventName: "AuthorizeSecurityGroupIngress",
    groupId: SG,
    permissions: [{ ...tcp(443), ipv4: [], ipv6: [], prefixListIds: ["pl-0b1c2d3e4f5a69788"], groups: [] }],
    createdRules: [{ ruleId: "sgr-03b4c5d6e7f809a1b", ...tcp(443), prefixListId: "pl-0b1c2d3e4f5a69788" }],
  },
  [`${SGI}/rdp-ipv6-only-open.json`]: {
    eventName: "AuthorizeSecurityGroupIngress",
    groupId: SG,
    permissions: [{ ...tcp(3389), ipv4: [], ipv6: [{ cidr: "::/0" }] }],
    createdRules: [{ ruleId: "sgr-02a3b4c5d6e7f8091", ...tcp(3389), cidrIpv6: "::/0" }],
  },
  [`${SGI}/sg-reference-postgres.json`]: {
    eventName: "AuthorizeSecurityGroupIngress",
    groupId: "sg-0d4c3b2a1f0e9d8c7",
    permissions: [
      { ...tcp(5432), ipv4: [], ipv6: [], groups: [{ groupId: "sg-07e6d5c4b3a291807", userId: "111122223333" }] },
    ],
    createdRules: [{ ruleId: "sgr-04c5d6e7f8091a2b3", ...tcp(5432), referencedGroupId: "sg-07e6d5c4b3a291807" }],
  },
  [`${SGI}/single-host-32-ssh.json`]: {
    eventName: "AuthorizeSecurityGroupIngress",
    groupId: SG,
    permissions: [{ ...tcp(22), ipv4: [{ cidr: "203.0.113.10/32", description: "alice home office" }] }],
    createdRules: [{ ruleId: "sgr-05d6e7f8091a2b3c4", ...tcp(22), cidrIpv4: "203.0.113.10/32" }],
  },
  [`${SGI}/ssh-ipv4-open-real.json`]: {
    eventName: "AuthorizeSecurityGroupIngress",
    account: "776520358045",
    region: "us-east-1",
    groupId: "sg-0632fa4ee8a8468a4",
    permissions: [{ ...tcp(22), ipv4: [{ cidr: "0.0.0.0/0" }], ipv6: [], prefixListIds: [], groups: [] }],
    createdRules: [
      {
        ruleId: "sgr-09be5c962afdc06ed",
        groupId: "sg-0632fa4ee8a8468a4",
        isEgress: false,
        ...tcp(22),
        cidrIpv4: "0.0.0.0/0",
      },
    ],
  },
  [`${SGI}/two-permissions-https-ssh-open.json`]: {
    eventName: "AuthorizeSecurityGroupIngress",
    groupId: SG,
    permissions: [
      { ...tcp(443), ipv4: [{ cidr: "0.0.0.0/0" }] },
      { ...tcp(22), ipv4: [{ cidr: "0.0.0.0/0" }] },
    ],
    createdRules: [
      { ruleId: "sgr-06e7f8091a2b3c4d5", ...tcp(443) },
      { ruleId: "sgr-07f8091a2b3c4d5e6", ...tcp(22) },
    ],
  },
  "cloudtrail/create-access-entry/custom-group.json": {
    eventName: "CreateAccessEntry",
    cluster: "prod-eks",
    principalArn: "arn:aws:iam::111122223333:role/platform-readers",
    kubernetesGroups: ["platform-readers"],
    entryType: "STANDARD",
  },
  "cloudtrail/create-access-entry/no-groups.json": {
    eventName: "CreateAccessEntry",
    cluster: "prod-eks",
    principalArn: "arn:aws:iam::111122223333:role/observability-agent",
    kubernetesGroups: [],
  },
  "cloudtrail/create-access-entry/system-masters-rejected.json": {
    eventName: "CreateAccessEntry",
    cluster: "prod-eks",
    principalArn: "arn:aws:iam::111122223333:role/external-ci-deployer",
    kubernetesGroups: ["system:masters"],
    error: { code: "InvalidParameterException" },
  },
  "cloudtrail/create-cluster/legacy-2018-awsdoc.json": {
    eventName: "CreateCluster",
    cluster: "test",
    region: "us-west-2",
    endpoint: { publicAccess: true, privateAccess: false, publicAccessCidrs: ["0.0.0.0/0"] },
    endpointDefaults: true,
    secretsEncrypted: false,
  },
  "cloudtrail/create-cluster/private-encrypted.json": {
    eventName: "CreateCluster",
    cluster: "payments-eks",
    endpoint: { publicAccess: false, privateAccess: true, publicAccessCidrs: ["0.0.0.0/0"] },
    endpointDefaults: false,
    secretsEncrypted: true,
    logging: { enabled: ["api", "audit", "authenticator", "controllerManager", "scheduler"], disabled: [] },
  },
  "cloudtrail/create-cluster/public-open-unencrypted.json": {
    eventName: "CreateCluster",
    cluster: "sandbox-eks",
    endpoint: { publicAccess: true, privateAccess: false, publicAccessCidrs: ["0.0.0.0/0"] },
    endpointDefaults: false,
    secretsEncrypted: false,
    logging: { enabled: [], disabled: ["api", "audit", "authenticator", "controllerManager", "scheduler"] },
  },
  "cloudtrail/create-nodegroup/no-remote-access.json": {
    eventName: "CreateNodegroup",
    cluster: "prod-eks",
    nodegroup: "general-v2",
  },
  "cloudtrail/create-nodegroup/ssh-key-no-source-sg.json": {
    eventName: "CreateNodegroup",
    cluster: "prod-eks",
    nodegroup: "ops-debug",
    remoteAccess: { ec2SshKey: "ops-key", sourceSecurityGroups: [] },
  },
  "cloudtrail/create-nodegroup/ssh-key-with-source-sg.json": {
    eventName: "CreateNodegroup",
    cluster: "prod-eks",
    nodegroup: "ops-bastion-only",
    remoteAccess: { ec2SshKey: "ops-key", sourceSecurityGroups: ["sg-0c1b2a3f4e5d69788"] },
  },
  "cloudtrail/delete-cluster/delete.json": {
    source: "aws.eks",
    eventName: "DeleteCluster",
    cluster: "staging-eks",
  },
  [`${MSR}/private-cidr-benign.json`]: {
    source: "aws.ec2",
    eventName: "ModifySecurityGroupRules",
    groupId: SG,
    rules: [
      {
        ruleId: "sgr-0c3d4e5f607189a01",
        groupId: SG,
        isEgress: false,
        ...tcp(22),
        cidrIpv4: "10.0.0.0/16",
        description: "vpc internal ssh",
      },
    ],
  },
  [`${MSR}/cluster-sg-self-rule-widened.json`]: {
    eventName: "ModifySecurityGroupRules",
    groupId: "sg-0e1d2c3b4a5968778",
    rules: [
      {
        ruleId: "sgr-0aaaaaaaaaaaaaa01",
        groupId: "sg-0e1d2c3b4a5968778",
        isEgress: false,
        protocol: "-1",
        cidrIpv4: "0.0.0.0/0",
      },
    ],
  },
  [`${MSR}/ssh-ipv4-world.json`]: {
    eventName: "ModifySecurityGroupRules",
    groupId: SG,
    rules: [{ ruleId: "sgr-0a1b2c3d4e5f60789", ...tcp(22), cidrIpv4: "0.0.0.0/0", description: "temp ssh" }],
  },
  [`${MSR}/ssh-ipv6-world.json`]: {
    eventName: "ModifySecurityGroupRules",
    groupId: SG,
    rules: [{ ruleId: "sgr-0b2c3d4e5f6071890", ...tcp(22), cidrIpv6: "::/0" }],
  },
  [`${MSR}/two-rules-list-form.json`]: {
    eventName: "ModifySecurityGroupRules",
    groupId: SG,
    rules: [
      { ruleId: "sgr-0d4e5f607189a0b12", ...tcp(443), prefixListId: "pl-0b1c2d3e4f5a69788" },
      { ruleId: "sgr-0e5f607189a0b1c23", ...tcp(3389), cidrIpv4: "0.0.0.0/0", description: "rdp" },
    ],
  },
  [`${UCC}/logging-disabled.json`]: {
    eventName: "UpdateClusterConfig",
    cluster: "prod-eks",
    logging: { enabled: [], disabled: ["api", "audit", "authenticator"] },
    updateId: "8809e6f1-6e05-473b-ad62-00d0b59121a0",
  },
  [`${UCC}/logging-enabled-all.json`]: {
    eventName: "UpdateClusterConfig",
    cluster: "prod-eks",
    logging: { enabled: ["api", "audit", "authenticator", "controllerManager", "scheduler"], disabled: [] },
  },
  [`${UCC}/private-endpoint.json`]: {
    eventName: "UpdateClusterConfig",
    cluster: "prod-eks",
    endpoint: { publicAccess: false, privateAccess: true },
  },
  [`${UCC}/public-endpoint-no-cidrs.json`]: {
    eventName: "UpdateClusterConfig",
    cluster: "prod-eks",
    endpoint: { publicAccess: true, privateAccess: false },
  },
  [`${UCC}/public-endpoint-open.json`]: {
    eventName: "UpdateClusterConfig",
    cluster: "prod-eks",
    endpoint: { publicAccess: true, privateAccess: false, publicAccessCidrs: ["0.0.0.0/0"] },
    updateId: "2f1e0d9c-8b7a-4c6d-9e5f-4a3b2c1d0e9f",
  },
  [`${UCC}/public-restricted-cidr.json`]: {
    eventName: "UpdateClusterConfig",
    cluster: "prod-eks",
    endpoint: { publicAccess: true, privateAccess: true, publicAccessCidrs: ["203.0.113.0/24"] },
  },
};

const FAILED: Record<string, string> = {
  [`${SGI}/failed-duplicate.json`]: "Client.InvalidPermission.Duplicate",
  [`${SGI}/failed-unauthorized-world.json`]: "Client.UnauthorizedOperation",
  "cloudtrail/create-access-entry/system-masters-rejected.json": "InvalidParameterException",
};

describe("parseEvent (CloudTrail)", () => {
  it("has an expectation for every CloudTrail fixture", () => {
    // prepare
    const files = listFixtures("cloudtrail");

    // act
    const covered = Object.keys(EXPECTED).sort();

    // assess
    expect(files.length).toBeGreaterThan(0);
    expect(covered).toEqual(files);
  });

  it.each(Object.entries(EXPECTED))("normalises %s", (relPath, expected) => {
    // prepare
    const text = fixtureText(relPath);
    const envelope = loadFixture(relPath);

    // act
    const parsed = parseEventText(text);

    // assess
    expect(parsed.status).toBe("signal");
    const signal = parseCloudTrail(text);
    expect(signal.family).toBe("cloudtrail");
    expect(signal.envelopeId).toBe(envelope.id);
    expect(signal.eventId).toBe(objectAt(envelope, "detail").eventID);
    expect(signal).toMatchObject(expected);
  });

  it.each(Object.keys(EXPECTED))("reports the error code of a failed call, and none otherwise: %s", (relPath) => {
    // prepare
    const text = fixtureText(relPath);

    // act
    const signal = parseCloudTrail(text);

    // assess
    expect(signal.error?.code).toBe(FAILED[relPath]);
  });

  it("keeps the error message of a failed EC2 call", () => {
    // prepare
    const text = fixtureText(`${SGI}/failed-unauthorized-world.json`);

    // act
    const signal = parseCloudTrail(text);

    // assess
    expect(must(signal.error).message).toMatch(/^You are not authorized to perform this operation\./);
  });

  it("reads the actor of an assumed-role session, with its session issuer", () => {
    // prepare
    const text = fixtureText(`${SGI}/ssh-ipv4-open-real.json`);

    // act
    const signal = parseCloudTrail(text);

    // assess
    expect(signal.actor).toEqual({
      type: "AssumedRole",
      arn: "arn:aws:sts::776520358045:assumed-role/voclabs/user289515=Jia_Jia",
      principalId: "AROA3JTBYLCOTP5TT67MV:user289515=Jia_Jia",
      accountId: "776520358045",
      sessionIssuerArn: "arn:aws:iam::776520358045:role/voclabs",
      sourceIp: expect.any(String),
      userAgent: expect.any(String),
    });
    expect(signal.time).toBe("2025-06-15T10:51:12Z");
  });

  it("reads the legacy clusterName of the 2018 CreateCluster record", () => {
    // prepare
    const envelope = loadFixture("cloudtrail/create-cluster/legacy-2018-awsdoc.json");
    const request = objectAt(envelope, "detail", "requestParameters");

    // act
    const signal = signalAs(envelope, "CreateCluster");

    // assess
    expect(request.name).toBeUndefined();
    expect(request.clusterName).toBe("test");
    expect(signal.cluster).toBe("test");
  });

  it("refuses an EKS event that names no cluster, naming the path", () => {
    // prepare
    const envelope = loadFixture("cloudtrail/delete-cluster/delete.json");
    delete objectAt(envelope, "detail", "requestParameters").name;

    // act
    const act = () => parseEvent(envelope);

    // assess
    expect(act).toThrow(/detail\.requestParameters.*cluster name/);
  });

  it("URL-decodes the principalArn of AssociateAccessPolicy, and leaves a plain one alone", () => {
    // prepare
    const encoded = loadFixture("cloudtrail/associate-access-policy/cluster-admin-encoded-arn.json");
    const plain = loadFixture("cloudtrail/associate-access-policy/cluster-admin-plain-arn.json");

    // act
    const fromEncoded = signalAs(encoded, "AssociateAccessPolicy");
    const fromPlain = signalAs(plain, "AssociateAccessPolicy");

    // assess
    expect(objectAt(encoded, "detail", "requestParameters").principalArn).toBe(
      "arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fexternal-ci-deployer",
    );
    expect(fromEncoded.principalArn).toBe("arn:aws:iam::111122223333:role/external-ci-deployer");
    expect(fromPlain.principalArn).toBe("arn:aws:iam::111122223333:role/contractor-admin");
  });

  it("reads a failed call with responseElements null as having created no rules", () => {
    // prepare
    const envelope = loadFixture(`${SGI}/failed-duplicate.json`);

    // act
    const signal = signalAs(envelope, "AuthorizeSecurityGroupIngress");

    // assess
    expect(objectAt(envelope, "detail").responseElements).toBeNull();
    expect(signal.createdRules).toEqual([]);
    expect(signal.error).toEqual({
      code: "Client.InvalidPermission.Duplicate",
      message: 'the specified rule "peer: 0.0.0.0/0, TCP, from port: 22, to port: 22, ALLOW" already exists',
    });
  });

  it("reads the flat request form (cidrIp/fromPort/toPort with ipPermissions: {}) as one permission", () => {
    // prepare
    const envelope = loadFixture(`${SGI}/flat-cidrip-ssh-open.json`);
    const request = objectAt(envelope, "detail", "requestParameters");

    // act
    const signal = signalAs(envelope, "AuthorizeSecurityGroupIngress");

    // assess
    expect(request.ipPermissions).toEqual({});
    expect(signal.permissions).toEqual([
      {
        protocol: "tcp",
        fromPort: 22,
        toPort: 22,
        ipv4: [{ cidr: "0.0.0.0/0" }],
        ipv6: [],
        prefixListIds: [],
        groups: [],
      },
    ]);
  });

  it("reads ModifySecurityGroupRules with one rule as an object and several as a list", () => {
    // prepare
    const single = loadFixture(`${MSR}/ssh-ipv4-world.json`);
    const list = loadFixture(`${MSR}/two-rules-list-form.json`);

    // act
    const fromSingle = signalAs(single, "ModifySecurityGroupRules");
    const fromList = signalAs(list, "ModifySecurityGroupRules");

    // assess
    expect(
      Array.isArray(
        objectAt(single, "detail", "requestParameters", "ModifySecurityGroupRulesRequest").SecurityGroupRule,
      ),
    ).toBe(false);
    expect(fromSingle.rules.map((r) => r.ruleId)).toEqual(["sgr-0a1b2c3d4e5f60789"]);
    expect(fromList.rules.map((r) => r.ruleId)).toEqual(["sgr-0d4e5f607189a0b12", "sgr-0e5f607189a0b1c23"]);
  });

  it("reads endpoint access from the response update.params strings when the request does not carry it", () => {
    // prepare
    const envelope = loadFixture(`${UCC}/public-endpoint-open.json`);
    delete objectAt(envelope, "detail", "requestParameters").resourcesVpcConfig;

    // act
    const signal = signalAs(envelope, "UpdateClusterConfig");

    // assess
    expect(signal.endpoint).toEqual({ publicAccess: true, privateAccess: false, publicAccessCidrs: ["0.0.0.0/0"] });
  });

  it("reads the restricted CIDRs and private access from update.params strings", () => {
    // prepare
    const envelope = loadFixture(`${UCC}/public-restricted-cidr.json`);
    delete objectAt(envelope, "detail", "requestParameters").resourcesVpcConfig;

    // act
    const signal = signalAs(envelope, "UpdateClusterConfig");

    // assess
    expect(signal.endpoint).toEqual({ publicAccess: true, privateAccess: true, publicAccessCidrs: ["203.0.113.0/24"] });
  });

  it("leaves publicAccessCidrs undefined when neither the request nor the response names them", () => {
    // prepare
    const envelope = loadFixture(`${UCC}/public-endpoint-no-cidrs.json`);
    delete objectAt(envelope, "detail", "requestParameters").resourcesVpcConfig;

    // act
    const signal = signalAs(envelope, "UpdateClusterConfig");

    // assess
    expect(signal.endpoint).toEqual({ publicAccess: true, privateAccess: false });
    expect(must(signal.endpoint).publicAccessCidrs).toBeUndefined();
  });

  it("reads logging from the ClusterLogging JSON string in update.params when the request does not carry it", () => {
    // prepare
    const envelope = loadFixture(`${UCC}/logging-disabled.json`);
    delete objectAt(envelope, "detail", "requestParameters").logging;

    // act
    const signal = signalAs(envelope, "UpdateClusterConfig");

    // assess
    expect(signal.logging).toEqual({ enabled: [], disabled: ["api", "audit", "authenticator"] });
    expect(signal.endpoint).toBeUndefined();
  });

  it("has no endpoint on a logging update and no logging on an endpoint update", () => {
    // prepare
    const logging = fixtureText(`${UCC}/logging-enabled-all.json`);
    const endpoint = fixtureText(`${UCC}/private-endpoint.json`);

    // act
    const fromLogging = signalAs(logging, "UpdateClusterConfig");
    const fromEndpoint = signalAs(endpoint, "UpdateClusterConfig");

    // assess
    expect(fromLogging.endpoint).toBeUndefined();
    expect(fromEndpoint.logging).toBeUndefined();
  });

  it("applies EKS's endpoint defaults to a CreateCluster that does not set endpoint access", () => {
    // prepare
    const text = fixtureText("cloudtrail/create-cluster/legacy-2018-awsdoc.json");

    // act
    const signal = signalAs(text, "CreateCluster");

    // assess
    expect(signal.endpointDefaults).toBe(true);
    expect(signal.endpoint).toEqual({ publicAccess: true, privateAccess: false, publicAccessCidrs: ["0.0.0.0/0"] });
    expect(signal.logging).toBeUndefined();
  });

  it("does not report endpoint defaults once the request sets any endpoint field", () => {
    // prepare
    const text = fixtureText("cloudtrail/create-cluster/private-encrypted.json");

    // act
    const signal = signalAs(text, "CreateCluster");

    // assess
    expect(signal.endpointDefaults).toBe(false);
    expect(signal.secretsEncrypted).toBe(true);
  });

  it("has no remoteAccess when CreateNodegroup sets none", () => {
    // prepare
    const text = fixtureText("cloudtrail/create-nodegroup/no-remote-access.json");

    // act
    const signal = signalAs(text, "CreateNodegroup");

    // assess
    expect(signal.remoteAccess).toBeUndefined();
    expect("remoteAccess" in signal).toBe(false);
  });

  it("returns an unsupported result for a CloudTrail event it does not read", () => {
    // prepare
    const envelope = loadFixture(`${SGI}/ssh-ipv4-open-real.json`);
    objectAt(envelope, "detail").eventName = "RevokeSecurityGroupIngress";

    // act
    const parsed = parseEvent(envelope);

    // assess
    expect(parsed).toMatchObject({
      status: "unsupported",
      event: { source: "aws.ec2", eventName: "RevokeSecurityGroupIngress" },
    });
  });
});

describe("CloudTrail quirks", () => {
  it("reads {} as an empty list for groups, ipRanges, ipv6Ranges and prefixListIds", () => {
    // prepare
    const envelope = loadFixture(`${SGI}/ssh-ipv4-open-real.json`);
    const item = objectAt(envelope, "detail", "requestParameters", "ipPermissions", "items", 0);

    // act
    const signal = signalAs(envelope, "AuthorizeSecurityGroupIngress");

    // assess
    expect(item.groups).toEqual({});
    expect(item.ipv6Ranges).toEqual({});
    expect(item.prefixListIds).toEqual({});
    expect(signal.permissions).toEqual([
      {
        protocol: "tcp",
        fromPort: 22,
        toPort: 22,
        ipv4: [{ cidr: "0.0.0.0/0" }],
        ipv6: [],
        prefixListIds: [],
        groups: [],
      },
    ]);
  });

  it("reads {} as an empty ipRanges list next to a filled ipv6Ranges list", () => {
    // prepare
    const envelope = loadFixture(`${SGI}/legacy-2018-ipv6-ssh-open-verbatim.json`);
    const item = objectAt(envelope, "detail", "requestParameters", "ipPermissions", "items", 0);

    // act
    const signal = signalAs(envelope, "AuthorizeSecurityGroupIngress");

    // assess
    expect(item.ipRanges).toEqual({});
    expect(must(signal.permissions[0]).ipv4).toEqual([]);
    expect(must(signal.permissions[0]).ipv6).toEqual([{ cidr: "::/0", description: "open 22 anywhere" }]);
  });

  it("reads a plain array where CloudTrail usually writes {items: [...]}", () => {
    // prepare
    const envelope = loadFixture(`${SGI}/ssh-ipv4-open-real.json`);
    const request = objectAt(envelope, "detail", "requestParameters");
    request.ipPermissions = [
      { ipProtocol: "tcp", fromPort: 22, toPort: 22, ipRanges: [{ cidrIp: "0.0.0.0/0" }], ipv6Ranges: {} },
    ];

    // act
    const signal = signalAs(envelope, "AuthorizeSecurityGroupIngress");

    // assess
    expect(signal.permissions).toEqual([
      {
        protocol: "tcp",
        fromPort: 22,
        toPort: 22,
        ipv4: [{ cidr: "0.0.0.0/0" }],
        ipv6: [],
        prefixListIds: [],
        groups: [],
      },
    ]);
  });

  it("reads ports, isEgress and booleans written as strings", () => {
    // prepare
    const envelope = loadFixture(`${SGI}/ssh-ipv4-open-real.json`);
    const item = objectAt(envelope, "detail", "requestParameters", "ipPermissions", "items", 0);
    item.fromPort = "22";
    item.toPort = " 22 ";
    const rule = objectAt(envelope, "detail", "responseElements", "securityGroupRuleSet", "items", 0);
    rule.fromPort = "22";
    rule.toPort = "22";
    rule.isEgress = "false";

    // act
    const signal = signalAs(envelope, "AuthorizeSecurityGroupIngress");

    // assess
    expect(must(signal.permissions[0])).toMatchObject({ fromPort: 22, toPort: 22 });
    expect(must(signal.createdRules[0])).toMatchObject({ fromPort: 22, toPort: 22, isEgress: false });
  });

  it("reads ModifySecurityGroupRules ports written as strings", () => {
    // prepare
    const envelope = loadFixture(`${MSR}/ssh-ipv4-world.json`);
    const rule = objectAt(
      envelope,
      "detail",
      "requestParameters",
      "ModifySecurityGroupRulesRequest",
      "SecurityGroupRule",
      "SecurityGroupRule",
    );
    rule.FromPort = "22";
    rule.ToPort = "22";

    // act
    const signal = signalAs(envelope, "ModifySecurityGroupRules");

    // assess
    expect(must(signal.rules[0])).toMatchObject({ fromPort: 22, toPort: 22 });
  });

  it('reads endpoint booleans written as "true"/"false" in the request', () => {
    // prepare
    const envelope = loadFixture(`${UCC}/private-endpoint.json`);
    const vpc = objectAt(envelope, "detail", "requestParameters", "resourcesVpcConfig");
    vpc.endpointPublicAccess = "false";
    vpc.endpointPrivateAccess = "true";

    // act
    const signal = signalAs(envelope, "UpdateClusterConfig");

    // assess
    expect(signal.endpoint).toEqual({ publicAccess: false, privateAccess: true });
  });

  it("refuses a port that is a string but not a number, naming the path", () => {
    // prepare
    const envelope = loadFixture(`${SGI}/ssh-ipv4-open-real.json`);
    objectAt(envelope, "detail", "requestParameters", "ipPermissions", "items", 0).toPort = "ssh";

    // act
    const act = () => parseEvent(envelope);

    // assess
    expect(act).toThrow(/toPort/);
  });

  it("tolerates EKS epoch-seconds float timestamps in the response and keeps eventTime as the signal time", () => {
    // prepare
    const envelope = loadFixture(`${UCC}/logging-disabled.json`);
    const update = objectAt(envelope, "detail", "responseElements", "update");

    // act
    const signal = signalAs(envelope, "UpdateClusterConfig");

    // assess
    expect(update.createdAt).toBe(1746612679.417);
    expect(signal.time).toBe("2025-05-07T10:11:19Z");
  });

  it("converts epoch-seconds floats and ISO text to ISO time (ctTime)", () => {
    // prepare
    const epoch = 1746612679.417;

    // act
    const fromEpoch = ctTime.parse(epoch);
    const fromIso = ctTime.parse("2025-05-07T10:11:19Z");
    const fromNull = ctTime.parse(null);
    const fromGarbage = ctTime.parse("not a time");

    // assess
    expect(fromEpoch).toBe("2025-05-07T10:11:19.417Z");
    expect(fromIso).toBe("2025-05-07T10:11:19.000Z");
    expect(fromNull).toBeUndefined();
    expect(fromGarbage).toBeUndefined();
  });
});

describe("CloudTrail protocol spellings", () => {
  it("reads protocol numbers and 'all' as the names the response and the detector use", async () => {
    const { parseEvent } = await import("../../../packages/core/src/index.ts");
    const { readFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const event = JSON.parse(
      readFileSync(
        join(import.meta.dirname, "../../fixtures/cloudtrail/authorize-security-group-ingress/ssh-ipv4-open-real.json"),
        "utf8",
      ),
    ) as { detail: { requestParameters: { ipPermissions: { items: { ipProtocol: string }[] } } } };
    for (const [written, read] of [
      ["6", "tcp"],
      ["17", "udp"],
      ["ALL", "-1"],
      ["TCP", "tcp"],
    ] as const) {
      const item = event.detail.requestParameters.ipPermissions.items[0];
      if (!item) throw new Error("fixture has a permission");
      item.ipProtocol = written;
      const parsed = parseEvent(event);
      if (
        parsed.status !== "signal" ||
        parsed.signal.family !== "cloudtrail" ||
        parsed.signal.eventName !== "AuthorizeSecurityGroupIngress"
      ) {
        throw new Error("expected an AuthorizeSecurityGroupIngress signal");
      }
      expect(parsed.signal.permissions[0]?.protocol, written).toBe(read);
    }
  });
});
