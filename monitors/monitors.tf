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

resource "datadog_monitor" "family_concurrency_task_family_db_migrate" {
  name    = "More than one ECS task of db-migrate at once (task_family:db-migrate)"
  type    = "query alert"
  query   = "max(last_2m):count_not_null(max:ecs.task.uptime{task_family:db-migrate} by {task_arn}.fill(last, 90)) > 1"
  message = <<-EOT
    {{#is_alert}}More than one task of db-migrate is running at once (all clusters counted together): {{value}} at the peak of the last 2 minutes.{{/is_alert}}
    {{#is_recovery}}At most one task of db-migrate runs again (all clusters counted together).{{/is_recovery}}

    Two tasks of a family that must run one at a time (a migration and its retry) can race on the same data. Find them, oldest first, with the Datadog query max:ecs.task.uptime{task_family:db-migrate} by {task_arn}, or: aws ecs list-tasks --cluster CLUSTER --family db-migrate
    Stop the one that should not run (usually the newer): aws ecs stop-task --cluster CLUSTER --task TASK_ID, then check what both did.
    A task counts until 90s after it last reported, so one that starts within 90s of another's end counts as a second task.
  EOT

  tags = ["created-by:ecs-uptime"]

  notify_no_data      = false
  require_full_window = false
  include_tags        = true

  monitor_thresholds {
    critical = 1
  }
}

resource "datadog_monitor" "family_singleton" {
  name    = "More than one ECS task of an ECS_UPTIME_SINGLETONS family at once"
  type    = "service check"
  query   = "\"ecs.family.singleton\".over(\"*\").by(\"host\",\"task_family\",\"cluster_arn\").last(2).count_by_status()"
  message = <<-EOT
    {{#is_alert}}{{check_message}}{{/is_alert}}
    {{#is_recovery}}At most one task of {{task_family.name}} runs in {{cluster_arn.name}} again, as {{host.name}} sees it.{{/is_recovery}}

    Two tasks of a family that must run one at a time (a migration and its retry) can race on the same data. Find them: aws ecs list-tasks --cluster {{cluster_arn.name}} --family {{task_family.name}}
    Stop the one that should not run (usually the newer): aws ecs stop-task --cluster {{cluster_arn.name}} --task TASK_ID, then check what both did.
  EOT

  tags = ["created-by:ecs-uptime"]

  notify_no_data      = false
  include_tags        = true

  monitor_thresholds {
    critical = 1
    ok       = 1
  }
}
