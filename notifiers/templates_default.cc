// The built-in notification templates. The names and the output of every definition but
// email.default.html follow Alertmanager 0.25's template/default.tmpl and email.tmpl, so user
// templates that call them render as they do under Alertmanager; the whitespace of each
// output, odd as some of it is, is part of that contract. The "__alertd_*" definitions are
// alertd's own building blocks.
#include "notifiers/templates.h"

namespace alertd {

namespace {

constexpr std::string_view kTextTemplates = R"tmpl(
{{- define "__alertmanager" }}Alertmanager{{ end }}

{{- define "__alertmanagerURL" -}}
  {{ .ExternalURL }}/#/alerts?receiver={{ urlquery .Receiver }}
{{- end }}

{{- /* [STATUS(:firing count)] group label values (other common label values), with a space
       after the group values even when the parenthesised part is absent. */ -}}
{{- define "__subject" -}}
  [{{ toUpper .Status }}{{ if eq .Status "firing" }}:{{ len .Alerts.Firing }}{{ end }}]
  {{- " " }}{{ join " " .GroupLabels.SortedPairs.Values }}{{ " " }}
  {{- if gt (len .CommonLabels) (len .GroupLabels) -}}
    ({{ join " " (.CommonLabels.Remove .GroupLabels.Names).Values }})
  {{- end }}
{{- end }}

{{- define "__description" }}{{ end }}

{{- /* Dot is a list of alerts. Each alert gives a Labels block, an Annotations block and
       its Source line, every line ending in a newline. */ -}}
{{- define "__text_alert_list" -}}
  {{ range . -}}
    Labels:{{ "\n" }}
    {{- range .Labels.SortedPairs }}{{ printf " - %s = %s\n" .Name .Value }}{{ end -}}
    Annotations:{{ "\n" }}
    {{- range .Annotations.SortedPairs }}{{ printf " - %s = %s\n" .Name .Value }}{{ end -}}
    Source: {{ .GeneratorURL }}{{ "\n" }}
  {{- end }}
{{- end }}

{{- define "__alertd_common_annotations" -}}
  {{ join " " .CommonAnnotations.SortedPairs.Values }}
{{- end }}

{{- /* The firing and resolved lists as opsgenie, victorops and wechat print them: each
       present list under its heading, the two parts joined by a newline. */ -}}
{{- define "__alertd_alert_lists_compact" -}}
  {{ with .Alerts.Firing }}Alerts Firing:{{ "\n" }}{{ template "__text_alert_list" . }}{{ end }}
  {{- "\n" -}}
  {{ with .Alerts.Resolved }}Alerts Resolved:{{ "\n" }}{{ template "__text_alert_list" . }}{{ end }}
{{- end }}

{{- /* The lists as pushover, sns, webex, telegram and discord print them: each present
       list between blank lines, the two parts joined by a newline. */ -}}
{{- define "__alertd_alert_lists_spaced" -}}
  {{ with .Alerts.Firing -}}
    {{ "\n" }}Alerts Firing:{{ "\n" }}{{ template "__text_alert_list" . }}{{ "\n" }}
  {{- end }}
  {{- "\n" -}}
  {{ with .Alerts.Resolved -}}
    {{ "\n" }}Alerts Resolved:{{ "\n" }}{{ template "__text_alert_list" . }}{{ "\n" }}
  {{- end }}
{{- end }}

{{- define "slack.default.title" }}{{ template "__subject" . }}{{ end }}
{{- define "slack.default.username" }}{{ template "__alertmanager" . }}{{ end }}
{{- define "slack.default.fallback" -}}
  {{ template "slack.default.title" . }} | {{ template "slack.default.titlelink" . }}
{{- end }}
{{- define "slack.default.callbackid" }}{{ end }}
{{- define "slack.default.pretext" }}{{ end }}
{{- define "slack.default.titlelink" }}{{ template "__alertmanagerURL" . }}{{ end }}
{{- define "slack.default.iconemoji" }}{{ end }}
{{- define "slack.default.iconurl" }}{{ end }}
{{- define "slack.default.text" }}{{ end }}
{{- define "slack.default.footer" }}{{ end }}

{{- define "pagerduty.default.description" }}{{ template "__subject" . }}{{ end }}
{{- define "pagerduty.default.client" }}{{ template "__alertmanager" . }}{{ end }}
{{- define "pagerduty.default.clientURL" }}{{ template "__alertmanagerURL" . }}{{ end }}
{{- define "pagerduty.default.instances" }}{{ template "__text_alert_list" . }}{{ end }}

{{- define "opsgenie.default.message" }}{{ template "__subject" . }}{{ end }}
{{- define "opsgenie.default.description" -}}
  {{ template "__alertd_common_annotations" . }}{{ "\n" -}}
  {{ template "__alertd_alert_lists_compact" . }}
{{- end }}
{{- define "opsgenie.default.source" }}{{ template "__alertmanagerURL" . }}{{ end }}

{{- define "wechat.default.message" -}}
  {{ template "__subject" . }}{{ "\n" -}}
  {{ template "__alertd_common_annotations" . }}{{ "\n" -}}
  {{ template "__alertd_alert_lists_compact" . }}{{ "\nAlertmanagerUrl:\n" -}}
  {{ template "__alertmanagerURL" . }}
{{- end }}
{{- define "wechat.default.to_user" }}{{ end }}
{{- define "wechat.default.to_party" }}{{ end }}
{{- define "wechat.default.to_tag" }}{{ end }}
{{- define "wechat.default.agent_id" }}{{ end }}

{{- define "victorops.default.state_message" -}}
  {{ template "__alertd_common_annotations" . }}{{ "\n" -}}
  {{ template "__alertd_alert_lists_compact" . }}
{{- end }}
{{- define "victorops.default.entity_display_name" }}{{ template "__subject" . }}{{ end }}
{{- define "victorops.default.monitoring_tool" }}{{ template "__alertmanager" . }}{{ end }}

{{- define "__alertd_annotations_and_lists" -}}
  {{ template "__alertd_common_annotations" . }}{{ "\n" -}}
  {{ template "__alertd_alert_lists_spaced" . }}{{ "\n" }}
{{- end }}

{{- define "__alertd_lists_only" -}}
  {{ "\n" }}{{ template "__alertd_alert_lists_spaced" . }}{{ "\n" }}
{{- end }}

{{- define "pushover.default.title" }}{{ template "__subject" . }}{{ end }}
{{- define "pushover.default.message" }}{{ template "__alertd_annotations_and_lists" . }}{{ end }}
{{- define "pushover.default.url" }}{{ template "__alertmanagerURL" . }}{{ end }}

{{- define "sns.default.subject" }}{{ template "__subject" . }}{{ end }}
{{- define "sns.default.message" }}{{ template "__alertd_annotations_and_lists" . }}{{ end }}

{{- define "telegram.default.message" }}{{ template "__alertd_lists_only" . }}{{ end }}

{{- define "discord.default.title" }}{{ template "__subject" . }}{{ end }}
{{- define "discord.default.message" }}{{ template "__alertd_lists_only" . }}{{ end }}

{{- define "webex.default.message" }}{{ template "__alertd_annotations_and_lists" . }}{{ end }}

{{- define "email.default.subject" }}{{ template "__subject" . }}{{ end }}
)tmpl";

// alertd's HTML email: one table per alert with its labels, annotations and source link,
// inline styles only (mail clients drop <style> blocks and external sheets), and every value
// escaped with `html` because this engine executes HTML text as text/template does.
constexpr std::string_view kEmailTemplates = R"tmpl(
{{- define "__alertd_email_alert" -}}
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;margin:0 0 16px 0;border:1px solid #dddddd;">
<tr><td style="padding:8px 12px;background:#f4f4f4;font-weight:bold;">{{ .Labels.alertname | html }}</td></tr>
<tr><td style="padding:8px 12px;">
<div style="font-weight:bold;margin-bottom:4px;">Labels</div>
{{ range .Labels.SortedPairs }}<div style="font-family:Menlo,Consolas,monospace;font-size:13px;">{{ .Name | html }} = {{ .Value | html }}</div>
{{ end -}}
{{ if gt (len .Annotations) 0 -}}
<div style="font-weight:bold;margin:8px 0 4px 0;">Annotations</div>
{{ range .Annotations.SortedPairs }}<div style="font-size:13px;">{{ .Name | html }} = {{ .Value | html }}</div>
{{ end -}}
{{ end -}}
{{ if .GeneratorURL }}<div style="margin-top:8px;"><a href="{{ .GeneratorURL | html }}" style="color:#1a73e8;">Source</a></div>
{{ end -}}
</td></tr>
</table>
{{ end }}

{{- /* __subject with the label values HTML-escaped. */ -}}
{{- define "__alertd_email_subject" -}}
  [{{ toUpper .Status }}{{ if eq .Status "firing" }}:{{ len .Alerts.Firing }}{{ end }}]
  {{- " " }}{{ join " " .GroupLabels.SortedPairs.Values | html }}{{ " " }}
  {{- if gt (len .CommonLabels) (len .GroupLabels) -}}
    ({{ join " " (.CommonLabels.Remove .GroupLabels.Names).Values | html }})
  {{- end }}
{{- end }}

{{- define "email.default.html" -}}
<!DOCTYPE html>
<html>
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ template "__alertd_email_subject" . }}</title>
</head>
<body style="margin:0;padding:0;background:#f6f6f6;font-family:Helvetica,Arial,sans-serif;font-size:14px;color:#222222;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;background:#f6f6f6;">
<tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" style="border-collapse:collapse;max-width:600px;width:100%;background:#ffffff;">
<tr><td style="padding:16px 20px;color:#ffffff;font-size:16px;background:{{ if eq .Status "firing" }}#c9302c{{ else }}#449d44{{ end }};">
{{- len .Alerts }} alert{{ if gt (len .Alerts) 1 }}s{{ end }} {{ .Status }} for
{{- range .GroupLabels.SortedPairs }} {{ .Name | html }}={{ .Value | html }}{{ end -}}
</td></tr>
<tr><td style="padding:16px 20px;">
<p style="margin:0 0 16px 0;"><a href="{{ template "__alertmanagerURL" . }}" style="display:inline-block;padding:8px 16px;background:#1a73e8;color:#ffffff;text-decoration:none;border-radius:4px;">View in {{ template "__alertmanager" . }}</a></p>
{{ with .Alerts.Firing -}}
<h2 style="font-size:16px;margin:16px 0 8px 0;">[{{ len . }}] Firing</h2>
{{ range . }}{{ template "__alertd_email_alert" . }}{{ end -}}
{{ end -}}
{{ with .Alerts.Resolved -}}
<h2 style="font-size:16px;margin:16px 0 8px 0;">[{{ len . }}] Resolved</h2>
{{ range . }}{{ template "__alertd_email_alert" . }}{{ end -}}
{{ end -}}
</td></tr>
<tr><td align="center" style="padding:12px 20px;font-size:12px;color:#999999;"><a href="{{ .ExternalURL | html }}" style="color:#999999;">Sent by {{ template "__alertmanager" . }}</a></td></tr>
</table>
</td></tr>
</table>
</body>
</html>
{{ end }}
)tmpl";

}  // namespace

std::string_view DefaultTemplateText() {
  static const std::string kText = std::string(kTextTemplates) + std::string(kEmailTemplates);
  return kText;
}

}  // namespace alertd
