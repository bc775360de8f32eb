resource "datadog_monitor" "task_uptime" {
  name    = "ECS task running over 24h (one-off tasks)"
  type    = "metric alert"
  query   = "max(last_5m):max:ecs.task.uptime{!ecs_task_kind:service} by {task_arn,ecs_cluster_name,region} > 86400"
  message = <<-EOT
    {{#is_alert}}ECS task {{task_arn.name}} in {{ecs_cluster_name.name}} ({{region.name}}) has been running for {{eval "int(value/360)/10.0"}} hours, over 24h.{{/is_alert}}
    {{#is_recovery}}ECS task {{task_arn.name}} in {{ecs_cluster_name.name}} ({{region.name}}) has stopped, or is no longer reported: nothing has been sent for it for an hour.{{/is_recovery}}

    A one-off task (a migration retried by CI, a task started by hand) may have been forgotten. If it should not run, stop it: aws ecs stop-task --region {{region.name}} --cluster {{ecs_cluster_name.name}} --task {{task_arn.name}}
    A task that stops stops reporting: this monitor does not alert on missing data, and resolves the task's alert an hour after its last report, with the recovery message.
  EOT

  tags = ["created-by:ecs-uptime"]

  notify_no_data      = false
  require_full_window = false
  include_tags        = true
  timeout_h           = 1

  monitor_thresholds {
    critical = 86400
  }
}

resource "datadog_monitor" "task_lifetime" {
  name    = "ECS task lifetime (one-off tasks)"
  type    = "service check"
  query   = "\"ecs.task.lifetime\".over(\"*\").exclude(\"ecs_task_kind:service\").by(\"task_arn\",\"ecs_cluster_name\",\"region\").last(2).count_by_status()"
  message = <<-EOT
    {{#is_alert}}ECS task {{task_arn.name}} in {{ecs_cluster_name.name}} ({{region.name}}): {{check_message}}{{/is_alert}}
    {{#is_warning}}ECS task {{task_arn.name}} in {{ecs_cluster_name.name}} ({{region.name}}): {{check_message}}{{/is_warning}}
    {{#is_recovery}}ECS task {{task_arn.name}} in {{ecs_cluster_name.name}} ({{region.name}}) is back under its thresholds, or has stopped (it has not been reported for an hour).{{/is_recovery}}

    A one-off task (a migration retried by CI, a task started by hand) may have been forgotten. If it should not run, stop it: aws ecs stop-task --region {{region.name}} --cluster {{ecs_cluster_name.name}} --task {{task_arn.name}}
    A task that stops stops reporting: this monitor does not alert on missing data, and resolves the task's alert an hour after its last report, with the recovery message.
  EOT

  tags = ["created-by:ecs-uptime"]

  notify_no_data      = false
  include_tags        = true
  timeout_h           = 1

  monitor_thresholds {
    warning  = 1
    critical = 1
    ok       = 1
  }
}

resource "datadog_monitor" "task_stuck" {
  name    = "ECS task stuck before or after it runs (one-off tasks)"
  type    = "service check"
  query   = "\"ecs.task.stuck\".over(\"*\").exclude(\"ecs_task_kind:service\").by(\"task_arn\",\"ecs_cluster_name\",\"region\",\"ecs_task_status\").last(2).count_by_status()"
  message = <<-EOT
    {{#is_alert}}ECS task {{task_arn.name}} in {{ecs_cluster_name.name}} ({{region.name}}): {{check_message}}{{/is_alert}}
    {{#is_recovery}}ECS task {{task_arn.name}} in {{ecs_cluster_name.name}} ({{region.name}}) has left {{ecs_task_status.name}}, or has not been reported for an hour.{{/is_recovery}}

    A task stuck before it runs (PROVISIONING, PENDING, ACTIVATING) waits for capacity or for an image it cannot pull; one stuck after (DEACTIVATING, STOPPING, DEPROVISIONING) may hold an address or an instance after its role or network interface was deleted. See why: aws ecs describe-tasks --region {{region.name}} --cluster {{ecs_cluster_name.name}} --tasks {{task_arn.name}}
    A task that has not started and should not: aws ecs stop-task --region {{region.name}} --cluster {{ecs_cluster_name.name}} --task {{task_arn.name}}
  EOT

  tags = ["created-by:ecs-uptime"]

  notify_no_data      = false
  include_tags        = true
  timeout_h           = 1

  monitor_thresholds {
    critical = 1
    ok       = 1
  }
}

resource "datadog_monitor" "family_concurrency_task_family_db_migrate" {
  name    = "More than one ECS task of db-migrate at once (one-off tasks: task_family:db-migrate)"
  type    = "query alert"
  query   = "max(last_2m):count_not_null(max:ecs.task.uptime{task_family:db-migrate,!ecs_task_kind:service} by {task_arn}.fill(last, 90)) > 1"
  message = <<-EOT
    {{#is_alert}}More than one task of db-migrate is running at once (all clusters counted together): {{value}} at the peak of the last 2 minutes.{{/is_alert}}
    {{#is_recovery}}At most one task of db-migrate runs again (all clusters counted together).{{/is_recovery}}

    Two tasks of a family that must run one at a time (a migration and its retry) can race on the same data. Find them, oldest first, with their cluster and region, with the Datadog query max:ecs.task.uptime{task_family:db-migrate,!ecs_task_kind:service} by {ecs_cluster_name,region,task_arn}, or with AWS credentials: ecs-uptime tasks --family db-migrate --region all
    Stop the one that should not run (usually the newer) with aws ecs stop-task, giving its region, cluster and task ID, then check what both did.
    A task counts until 90s after it last reported, so one that starts within 90s of another's end counts as a second task.
  EOT

  tags = ["created-by:ecs-uptime"]

  notify_no_data      = false
  require_full_window = false
  include_tags        = true
  timeout_h           = 1

  monitor_thresholds {
    critical = 1
  }
}

resource "datadog_monitor" "family_singleton" {
  name    = "More than one ECS task of an ECS_UPTIME_SINGLETONS family at once"
  type    = "service check"
  query   = "\"ecs.family.singleton\".over(\"*\").by(\"task_family\",\"cluster_arn\",\"region\").last(1).pct_by_status()"
  message = <<-EOT
    {{#is_alert}}More than one task of {{task_family.name}} is running at once in {{cluster_arn.name}}, as a host daemon on its host or the api scan sees it. The event "N tasks of {{task_family.name}} running in …" names them, oldest first.{{/is_alert}}
    {{#is_recovery}}At most one task of {{task_family.name}} runs in {{cluster_arn.name}} again, as every process that watches it sees it, or none has reported it for an hour.{{/is_recovery}}

    Two tasks of a family that must run one at a time (a migration and its retry) can race on the same data. Find them: aws ecs list-tasks --region {{region.name}} --cluster {{cluster_arn.name}} --family {{task_family.name}}
    Stop the one that should not run (usually the newer) with aws ecs stop-task --region {{region.name}} --cluster {{cluster_arn.name}} --task and its ID, then check what both did.
  EOT

  tags = ["created-by:ecs-uptime"]

  notify_no_data      = false
  include_tags        = true
  timeout_h           = 1

  monitor_thresholds {
    critical = 0.001
  }
}
