{#- Contracts' NOT NULL columns on Spark. dbt-spark enforces them by altering the columns of a
    Delta table; the project's Spark tables are Parquet (dbt_project.yml), which cannot hold the
    constraint, and dbt-spark then skips it silently. Here the built table is checked instead:
    a null in a not_null column fails the model, as the constraint would on DuckDB. Only the spark
    adapter uses this macro (dbt's persist_constraints dispatches to spark__persist_constraints,
    and the root project's definition wins). -#}
{% macro spark__persist_constraints(relation, model) %}
  {%- set contract_config = config.get('contract') -%}
  {%- if contract_config.enforced and config.get('file_format', 'delta') == 'delta' -%}
    {% do alter_table_add_constraints(relation, model.constraints) %}
    {% do alter_column_set_constraints(relation, model.columns) %}
  {%- elif contract_config.enforced -%}
    {% do assert_not_null_columns(relation, model.columns) %}
  {%- endif -%}
{% endmacro %}


{#- Fails with the columns of `column_dict` (a model's columns) that have a not_null or
    primary_key constraint and hold a null in `relation`, or a primary key value twice. -#}
{% macro assert_not_null_columns(relation, column_dict) %}
  {%- set not_null_columns = [] -%}
  {%- set key_columns = [] -%}
  {%- for column_name in column_dict -%}
    {%- for constraint in column_dict[column_name]['constraints'] -%}
      {%- if constraint.type in ('not_null', 'primary_key') and column_name not in not_null_columns -%}
        {%- do not_null_columns.append(column_name) -%}
      {%- endif -%}
      {%- if constraint.type == 'primary_key' -%}
        {%- do key_columns.append(column_name) -%}
      {%- endif -%}
    {%- endfor -%}
  {%- endfor -%}
  {%- if not_null_columns and execute -%}
    {%- set counts -%}
      select
        {%- for column_name in not_null_columns %}
        count_if({{ adapter.quote(column_name) }} is null) as {{ adapter.quote(column_name) }}
        {{- ',' if not loop.last }}
        {%- endfor %}
        {%- for column_name in key_columns %},
        count(*) - count(distinct {{ adapter.quote(column_name) }}) as {{ adapter.quote(column_name ~ '_repeats') }}
        {%- endfor %}
      from {{ relation }}
    {%- endset -%}
    {%- set row = run_query(counts).rows[0] -%}
    {%- set violated = [] -%}
    {%- for column_name in not_null_columns -%}
      {%- if row[loop.index0] > 0 -%}
        {%- do violated.append(column_name ~ ' (' ~ row[loop.index0] ~ ' nulls)') -%}
      {%- endif -%}
    {%- endfor -%}
    {%- for column_name in key_columns -%}
      {%- set repeats = row[not_null_columns | length + loop.index0] -%}
      {%- if repeats > 0 -%}
        {%- do violated.append(column_name ~ ' (' ~ repeats ~ ' repeated keys)') -%}
      {%- endif -%}
    {%- endfor -%}
    {%- if violated -%}
      {{ exceptions.raise_compiler_error(
          "constraint violated in " ~ relation ~ ": " ~ violated | join(', ')) }}
    {%- endif -%}
  {%- endif -%}
{% endmacro %}
