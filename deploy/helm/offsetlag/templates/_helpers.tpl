{{- define "offsetlag.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "offsetlag.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "offsetlag.selectorLabels" -}}
app.kubernetes.io/name: {{ include "offsetlag.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "offsetlag.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "offsetlag.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "offsetlag.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "offsetlag.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Secret holding the SASL password, or "" for none. */}}
{{- define "offsetlag.saslSecret" -}}
{{- if .Values.kafka.sasl.existingSecret }}
{{- .Values.kafka.sasl.existingSecret }}
{{- else if .Values.kafka.sasl.password }}
{{- printf "%s-kafka-sasl" (include "offsetlag.fullname" .) }}
{{- end }}
{{- end }}

{{/* Secret holding web-config.yml, or "" for none. */}}
{{- define "offsetlag.webConfigSecret" -}}
{{- if .Values.webConfig.existingSecret }}
{{- .Values.webConfig.existingSecret }}
{{- else if .Values.webConfig.config }}
{{- printf "%s-web-config" (include "offsetlag.fullname" .) }}
{{- end }}
{{- end }}

{{/* HTTP or HTTPS for probes and scrapes. */}}
{{- define "offsetlag.scheme" -}}
{{- if .Values.probes.scheme }}
{{- .Values.probes.scheme | upper }}
{{- else if hasKey .Values.webConfig.config "tls_server_config" }}
{{- "HTTPS" }}
{{- else }}
{{- "HTTP" }}
{{- end }}
{{- end }}
