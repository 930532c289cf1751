{#- Seed rows on Spark as SQL literals. dbt-spark's own spark__load_csv_rows binds the values
    into the statement as '<value>' without escaping (in session mode), so a quote in a seed
    ("New Year's Day") breaks the insert and an empty cell arrives as the text 'None'. Here each
    value is a Spark string literal (backslash and quote escaped) cast to its column's type, and
    an empty cell is null. Only the spark adapter uses this macro (dbt's load_csv_rows dispatches
    to `spark__load_csv_rows`, and the root project's definition wins). -#}
{% macro spark__load_csv_rows(model, agate_table) %}

  {% set batch_size = get_batch_size() %}
  {% set column_override = model['config'].get('column_types', {}) %}
  {% set statements = [] %}

  {% for chunk in agate_table.rows | batch(batch_size) %}
      {% set sql %}
          insert into {{ this.render() }} values
          {% for row in chunk -%}
              ({%- for col_name in agate_table.column_names -%}
                  {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
                  {%- set type = column_override.get(col_name, inferred_type) -%}
                  {%- set value = row[loop.index0] -%}
                  {%- if value is none -%}
                    cast(null as {{ type }})
                  {%- else -%}
                    {%- if value is sameas true or value is sameas false -%}
                        {%- set text = (value | string) | lower -%}
                    {%- else -%}
                        {%- set text = value | string -%}
                    {%- endif -%}
                    cast('{{ text | replace("\\", "\\\\") | replace("'", "\\'") }}' as {{ type }})
                  {%- endif -%}
                  {%- if not loop.last %},{% endif -%}
              {%- endfor -%})
              {%- if not loop.last %},{% endif %}
          {%- endfor %}
      {% endset %}

      {% do adapter.add_query(sql, abridge_sql_log=True) %}

      {% if loop.index0 == 0 %}
          {% do statements.append(sql) %}
      {% endif %}
  {% endfor %}

  {# the SQL of the first batch, rendered into the compiled files #}
  {{ return(statements[0]) }}
{% endmacro %}
