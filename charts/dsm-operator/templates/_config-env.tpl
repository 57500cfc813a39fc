{{- /* Generated from operator/src/chart.ts by `npm run generate`: do not edit. */}}
{{- define "dsm-operator.configEnv" -}}
- name: DSM_OPERATOR_KEY_SECRET
  value: {{ .Values.config.keySecret | quote }}
- name: DSM_OPERATOR_LEASE_DURATION_MS
  value: {{ .Values.config.leaseDurationMs | quote }}
- name: DSM_OPERATOR_RENEW_DEADLINE_MS
  value: {{ .Values.config.renewDeadlineMs | quote }}
- name: DSM_OPERATOR_RETRY_PERIOD_MS
  value: {{ .Values.config.retryPeriodMs | quote }}
- name: DSM_OPERATOR_WORKERS
  value: {{ .Values.config.workers | quote }}
- name: DSM_OPERATOR_RESYNC_MS
  value: {{ .Values.config.resyncMs | quote }}
- name: DSM_OPERATOR_CAPABILITY_CHECK_MS
  value: {{ .Values.config.capabilityCheckMs | quote }}
- name: DSM_OPERATOR_LOG_LEVEL
  value: {{ .Values.config.logLevel | quote }}
{{- end }}
