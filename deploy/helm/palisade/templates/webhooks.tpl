apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: {{ .Release.Name }}
  labels:
    {{- include "palisade.labels" . | nindent 4 }}
  {{- include "palisade.caInjection" . | nindent 2 }}
webhooks:
  - name: validate.palisade.dev
    admissionReviewVersions: [v1]
    sideEffects: None
    failurePolicy: {{ .Values.webhook.failurePolicy }}
    timeoutSeconds: {{ .Values.webhook.timeoutSeconds }}
    matchPolicy: Equivalent
    {{- include "palisade.clientConfig" (dict "root" . "path" "/validate") | nindent 4 }}
    {{- include "palisade.namespaceSelector" . | nindent 4 }}
    rules:
      - operations: [CREATE, UPDATE]
        apiGroups: [""]
        apiVersions: [v1]
        resources: [pods, pods/ephemeralcontainers, podtemplates, replicationcontrollers, services, secrets, serviceaccounts, namespaces]
        scope: "*"
      - operations: [CREATE, UPDATE]
        apiGroups: [apps]
        apiVersions: [v1]
        resources: [deployments, replicasets, statefulsets, daemonsets]
      - operations: [CREATE, UPDATE]
        apiGroups: [batch]
        apiVersions: [v1]
        resources: [jobs, cronjobs]
      - operations: [CREATE, UPDATE]
        apiGroups: [networking.k8s.io]
        apiVersions: [v1]
        resources: [ingresses, networkpolicies]
      - operations: [CREATE, UPDATE]
        apiGroups: [rbac.authorization.k8s.io]
        apiVersions: [v1]
        resources: [roles, rolebindings, clusterroles, clusterrolebindings]
        scope: "*"
{{- if .Values.webhook.mutate.enabled }}
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: {{ .Release.Name }}
  labels:
    {{- include "palisade.labels" . | nindent 4 }}
  {{- include "palisade.caInjection" . | nindent 2 }}
webhooks:
  - name: mutate.palisade.dev
    admissionReviewVersions: [v1]
    sideEffects: None
    failurePolicy: {{ .Values.webhook.mutate.failurePolicy }}
    timeoutSeconds: {{ .Values.webhook.timeoutSeconds }}
    reinvocationPolicy: IfNeeded
    matchPolicy: Equivalent
    {{- include "palisade.clientConfig" (dict "root" . "path" "/mutate") | nindent 4 }}
    {{- include "palisade.namespaceSelector" . | nindent 4 }}
    rules:
      - operations: [CREATE]
        apiGroups: [""]
        apiVersions: [v1]
        resources: [pods, podtemplates, replicationcontrollers]
      - operations: [CREATE]
        apiGroups: [apps]
        apiVersions: [v1]
        resources: [deployments, replicasets, statefulsets, daemonsets]
      - operations: [CREATE]
        apiGroups: [batch]
        apiVersions: [v1]
        resources: [jobs, cronjobs]
{{- end }}
