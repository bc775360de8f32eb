resource "datadog_monitor" "task_uptime" {
  name    = "ECS task running over 24h (all tasks)"
  type    = "metric alert"
  query   = "max(last_5m):max:ecs.task.uptime{*} by {task_arn} > 86400"
  message = <<-EOT
    {{#is_alert}}ECS task {{task_arn.name}} has been running for {{value}} s, over 24h ({{threshold}} s).{{/is_alert}}
    {{#is_recovery}}ECS task {{task_arn.name}} is no longer over the threshold.{{/is_recovery}}

    A one-off task (a migration retried by CI, a task started by hand) may have been forgotten. If it should not run, stop it: aws ecs stop-task --cluster CLUSTER --task {{task_arn.name}}
    A task that stops stops reporting: no data is the good outcome, so this monitor does not alert on it.
  EOT

  tags = ["created-by:ecs-uptime"]

  notify_no_data      = false
  require_full_window = false
  include_tags        = true

  monitor_thresholds {
    critical = 86400
  }
}

resource "datadog_monitor" "task_lifetime" {
  name    = "ECS task lifetime (all tasks)"
  type    = "service check"
  query   = "\"ecs.task.lifetime\".over(\"*\").by(\"task_arn\").last(2).count_by_status()"
  message = <<-EOT
    {{#is_alert}}ECS task {{task_arn.name}}: {{check_message}}{{/is_alert}}
    {{#is_warning}}ECS task {{task_arn.name}}: {{check_message}}{{/is_warning}}
    {{#is_recovery}}ECS task {{task_arn.name}} has stopped or is back under its thresholds.{{/is_recovery}}

    A one-off task (a migration retried by CI, a task started by hand) may have been forgotten. If it should not run, stop it: aws ecs stop-task --cluster CLUSTER --task {{task_arn.name}}
    A task that stops stops reporting: no data is the good outcome, so this monitor does not alert on it.
  EOT

  tags = ["created-by:ecs-uptime"]

  notify_no_data      = false
  include_tags        = true

  monitor_thresholds {
    warning  = 1
    critical = 1
    ok       = 1
  }
}
