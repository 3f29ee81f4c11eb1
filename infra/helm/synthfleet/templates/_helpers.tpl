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
