// Validates Kubernetes manifests against the OpenAPI-derived JSON schemas shipped (as compiled ajv validators) by
// kubernetes-models and its CRD packages (Argo Rollouts, KEDA, External Secrets, Prometheus Operator).
import { AnalysisTemplate } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/AnalysisTemplate';
import { Rollout } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/Rollout';
import { ExternalSecret } from '@kubernetes-models/external-secrets/external-secrets.io/v1beta1/ExternalSecret';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';

type Validating = new (data: never) => { validate(): void };

const models: Record<string, Validating> = {
  'v1/ConfigMap': ConfigMap as unknown as Validating,
  'v1/Service': Service as unknown as Validating,
  'apps/v1/Deployment': Deployment as unknown as Validating,
  'apps/v1/StatefulSet': StatefulSet as unknown as Validating,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget as unknown as Validating,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler as unknown as Validating,
  'argoproj.io/v1alpha1/Rollout': Rollout as unknown as Validating,
  'argoproj.io/v1alpha1/AnalysisTemplate': AnalysisTemplate as unknown as Validating,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject as unknown as Validating,
  'external-secrets.io/v1beta1/ExternalSecret': ExternalSecret as unknown as Validating,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor as unknown as Validating,
};

/** Throws with the schema's message when the manifest is invalid, or when no schema is known for its kind. */
export function validateManifest(manifest: { apiVersion?: unknown; kind?: unknown }): void {
  const key = `${String(manifest.apiVersion)}/${String(manifest.kind)}`;
  const Model = models[key];
  if (!Model) throw new Error(`no schema for ${key}: add its model to test/deploy/kubernetes-schemas.ts`);
  new Model(manifest as never).validate();
}
