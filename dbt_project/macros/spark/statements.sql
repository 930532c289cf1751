{#- Runs each statement of `statements` on the target's connection, in order: how the pipeline
    registers the Parquet tables it wrote (raw, forecast) in the Spark metastore of a run, through
    the same profile target as the build (`dbt run-operation execute_statements --args ...`,
    pipelines/lib/spark_engine.py). -#}
{% macro execute_statements(statements) %}
  {%- for statement in statements -%}
    {% do run_query(statement) %}
  {%- endfor -%}
{% endmacro %}
