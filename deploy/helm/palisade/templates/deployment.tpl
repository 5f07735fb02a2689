apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "palisade.labels" . | nindent 4 }}
  {{- if not .Values.image.digest }}
  annotations:
    palisade.dev/ignore: IMG002
    palisade.dev/ignore-reason: set image.digest to pin the image
  {{- end }}
spec:
  replicas: {{ .Values.replicaCount }}
  revisionHistoryLimit: 3
  selector:
    matchLabels:
      {{- include "palisade.selector" . | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxUnavailable: 0, maxSurge: 1}
  template:
    metadata:
      labels:
        {{- include "palisade.selector" . | nindent 8 }}
      annotations:
        checksum/config: {{ printf "%s%s" .Values.rulesConfig .Values.webhookConfig | sha256sum }}
    spec:
      serviceAccountName: {{ .Release.Name }}
      automountServiceAccountToken: false
      # preStop + drain + grace, with room to spare.
      terminationGracePeriodSeconds: {{ add .Values.shutdown.preStopSeconds .Values.shutdown.drainSeconds .Values.shutdown.graceSeconds 10 }}
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        runAsGroup: 65532
        seccompProfile: {type: RuntimeDefault}
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "palisade.selector" . | nindent 14 }}
      containers:
        - name: webhook
          image: {{ include "palisade.image" . }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          args:
            - serve
            - --addr=0.0.0.0:8443
            - --tls-cert=/tls/tls.crt
            - --tls-key=/tls/tls.key
            - --config=/config/palisade.yaml
            - --webhook-config=/config/webhook.yaml
            - --metrics-addr=0.0.0.0:9090
            - --drain={{ .Values.shutdown.drainSeconds }}
            - --grace={{ .Values.shutdown.graceSeconds }}
          lifecycle:
            preStop:
              sleep: {seconds: {{ .Values.shutdown.preStopSeconds }}}
          ports:
            - {name: https, containerPort: 8443, protocol: TCP}
            - {name: metrics, containerPort: 9090, protocol: TCP}
          readinessProbe:
            httpGet: {path: /readyz, port: https, scheme: HTTPS}
            periodSeconds: 5
          livenessProbe:
            httpGet: {path: /healthz, port: https, scheme: HTTPS}
            periodSeconds: 10
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            runAsNonRoot: true
            capabilities: {drop: [ALL]}
          volumeMounts:
            - {name: tls, mountPath: /tls, readOnly: true}
            - {name: config, mountPath: /config, readOnly: true}
      volumes:
        - name: tls
          secret:
            secretName: {{ include "palisade.tlsSecret" . }}
            defaultMode: 0440
        - name: config
          configMap:
            name: {{ .Release.Name }}-config
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "palisade.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "palisade.selector" . | nindent 4 }}
  ports:
    - {name: https, port: 443, targetPort: https, protocol: TCP}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .Release.Name }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "palisade.labels" . | nindent 4 }}
spec:
  minAvailable: {{ .Values.podDisruptionBudget.minAvailable }}
  selector:
    matchLabels:
      {{- include "palisade.selector" . | nindent 6 }}
