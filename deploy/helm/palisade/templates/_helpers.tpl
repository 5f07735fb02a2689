{{- define "palisade.name" -}}palisade{{- end -}}

{{- define "palisade.labels" -}}
app.kubernetes.io/name: palisade
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}

{{- define "palisade.selector" -}}
app.kubernetes.io/name: palisade
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: webhook
{{- end -}}

{{- define "palisade.tlsSecret" -}}
{{- if .Values.tls.certManager -}}{{ .Release.Name }}-tls{{- else -}}{{ required "tls.secretName is required without cert-manager" .Values.tls.secretName }}{{- end -}}
{{- end -}}

{{- define "palisade.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}:{{ $tag }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ $tag }}
{{- end -}}
{{- end -}}

{{- define "palisade.clientConfig" -}}
clientConfig:
  service:
    namespace: {{ .root.Release.Namespace }}
    name: {{ .root.Release.Name }}
    path: {{ .path }}
    port: 443
  {{- if not .root.Values.tls.certManager }}
  caBundle: {{ required "tls.caBundle is required without cert-manager" .root.Values.tls.caBundle }}
  {{- end }}
{{- end -}}

{{- define "palisade.namespaceSelector" -}}
namespaceSelector:
  matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values:
        - {{ .Release.Namespace }}
        {{- range .Values.webhook.excludeNamespaces }}
        - {{ . }}
        {{- end }}
matchConditions:
  - name: not-a-node
    expression: "!request.userInfo.username.startsWith('system:node:')"
{{- end -}}

{{- define "palisade.caInjection" -}}
{{- if .Values.tls.certManager }}
annotations:
  cert-manager.io/inject-ca-from: {{ .Release.Namespace }}/{{ .Release.Name }}-tls
{{- end }}
{{- end -}}
