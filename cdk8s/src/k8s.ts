/**
 * cdk8s-plus-33's L1 module (the generated `Kube*` API objects) on its own: the package's index also loads
 * its whole L2 library, which nothing here uses, and every process rendering desired objects (the operator
 * above all) would carry it.
 */
export * as k8s from 'cdk8s-plus-33/lib/imports/k8s.js';
