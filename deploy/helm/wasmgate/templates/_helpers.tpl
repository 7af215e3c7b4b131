{{- define "wasmgate.labels" -}}
app.kubernetes.io/name: wasmgate
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "wasmgate.selector" -}}
app.kubernetes.io/name: wasmgate
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
