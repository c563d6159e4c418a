/** The SSM client and GetParameters, by name (see @eks-responder/core/aws/ssm.ts for why not the package namespace). */
export { GetParametersCommand, SSMClient } from "@eks-responder/core/aws/ssm.ts";
