apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "palisade.labels" . | nindent 4 }}
data:
  palisade.yaml: |
    {{- .Values.rulesConfig | nindent 4 }}
  webhook.yaml: |
    {{- .Values.webhookConfig | nindent 4 }}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ .Release.Name }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "palisade.labels" . | nindent 4 }}
automountServiceAccountToken: false
