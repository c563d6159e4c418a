/**
 * The live code of every action (check, apply, rollback), in one module that the definitions import on first use
 * (actions/deferred.ts). One module rather than one per action: esbuild's code splitting puts each file the respond
 * handler shares with a lazily imported module into a chunk of its own per distinct set of importers, so ten lazy
 * modules cut the code loaded at import into some thirty files, and loading them cost more than the bytes saved
 * (bench/cold-start.ts measured both; test/unit/infra/bundles.test.ts keeps the count). The first action to run loads all ten (about 70 KiB minified), in parallel
 * with the safety reads of the respond path (warmPlaybook).
 */

/**
 * The functions' Kubernetes access (an EKS token per cluster): only the k8s actions' live code asks for it, so it comes
 * with that code rather than as a lazy module of its own, which would split the respond bundle's import further. It
 * imports the SDK parts of the token on first use (kubernetes/token.ts), so this module imports no SDK module.
 */
export { kubernetesFor } from "../kubernetes/access.ts";
export * as enableLogging from "./enable-logging.apply.ts";
export * as isolateInstance from "./isolate-instance.apply.ts";
export * as cordonNode from "./k8s-cordon-node.apply.ts";
export * as isolatePod from "./k8s-isolate-pod.apply.ts";
export * as revokeBinding from "./k8s-revoke-binding.apply.ts";
export * as scaleWorkload from "./k8s-scale-workload.apply.ts";
export * as patchNodes from "./patch-nodes.apply.ts";
export * as restrictEndpoint from "./restrict-endpoint.apply.ts";
export * as revokeAccess from "./revoke-access.apply.ts";
export * as revokeIngress from "./revoke-ingress.apply.ts";
