{{- if .Values.networkPolicy.enabled }}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ .Release.Name }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "palisade.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "palisade.selector" . | nindent 6 }}
  policyTypes: [Ingress, Egress]
  ingress:
    # The API server (webhooks, audit events) and the kubelet's probes; narrow `from` to the
    # control plane where its addresses are known.
    - ports:
        - {port: https, protocol: TCP}
    # Metrics: only the monitoring namespace.
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {{ .Values.networkPolicy.monitoringNamespace }}
      ports:
        - {port: metrics, protocol: TCP}
{{- end }}
