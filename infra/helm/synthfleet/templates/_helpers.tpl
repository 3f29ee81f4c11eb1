{{- define "synthfleet.labels" -}}
app.kubernetes.io/name: synthfleet
app.kubernetes.io/part-of: synthfleet
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "synthfleet.secretName" -}}
{{- if .Values.existingSecret -}}{{ .Values.existingSecret }}{{- else -}}{{ .Release.Name }}-cluster-token{{- end -}}
{{- end -}}

{{- define "synthfleet.tag" -}}
{{- .Values.image.tag | default .Chart.AppVersion -}}
{{- end -}}

{{- /* Whether the agent talks to the Kubernetes API: some k8s probe family or Job remedies are on. */ -}}
{{- define "synthfleet.agentKube" -}}
{{- if or .Values.k8sProbes.pod .Values.k8sProbes.deployment .Values.k8sProbes.dns .Values.k8sProbes.namespaces .Values.k8sProbes.api .Values.remedies.jobs -}}true{{- else -}}false{{- end -}}
{{- end -}}

{{- define "synthfleet.probeNamespace" -}}
{{- .Values.k8sProbes.namespace | default .Release.Namespace -}}
{{- end -}}
