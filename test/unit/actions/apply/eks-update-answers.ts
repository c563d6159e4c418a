/**
 * EKS answers to cluster updates, shaped as the EKS API reference documents them, for the action tests.
 * - UpdateClusterConfig answers an Update with status InProgress:
 *   https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateClusterConfig.html
 * - DescribeUpdate answers the same Update, later Successful, Failed (with errors: ErrorDetail errorCode,
 *   errorMessage, resourceIds; IpNotAvailable = "A subnet associated with the cluster doesn't have any available IP
 *   addresses") or Cancelled: https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeUpdate.html,
 *   https://docs.aws.amazon.com/eks/latest/APIReference/API_ErrorDetail.html
 * - ResourceInUseException (HTTP 409) while another update runs, with EKS's message "Cannot <UpdateType> because
 *   cluster <name> currently has update <id> in progress" (as EKS answers it: aws-controllers-k8s/community#1192).
 * - InvalidParameterException (HTTP 400) for a change already there: "No changes needed for the logging config
 *   provided" (aws-quickstart/quickstart-amazon-eks-cluster-resource-provider#38), "Cluster is already at the desired
 *   configuration with endpointPrivateAccess: …" (crossplane-contrib/provider-aws#1047).
 */
import type { ErrorDetail, Update, UpdateStatus, UpdateType } from "@aws-sdk/client-eks";
import { EKSServiceException } from "@aws-sdk/client-eks";

const CREATED = new Date("2025-06-15T10:51:12Z");

export function update(id: string, type: UpdateType, status: UpdateStatus, errors: ErrorDetail[] = []): Update {
  return { id, type, status, createdAt: CREATED, params: [], errors };
}

/** An EKS error with EKS's own message. */
export function eksMessageError(code: string, status: number, message: string): EKSServiceException {
  return new EKSServiceException({ name: code, $fault: "client", $metadata: { httpStatusCode: status }, message });
}

export function inUse(cluster: string, type: UpdateType): EKSServiceException {
  return eksMessageError(
    "ResourceInUseException",
    409,
    `Cannot ${type} because cluster ${cluster} currently has update 408c0738-828c-42b2-aaa5-38691b63f738 in progress`,
  );
}
