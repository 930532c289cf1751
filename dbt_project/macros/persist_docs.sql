{#- dbt's persist_docs on DuckDB, as one statement per model. dbt's own asks DuckDB for the
    relation's columns twice (its check that each documented column exists, then dbt-duckdb's) and
    runs each comment as a query whose empty result it reads back as a table: about a tenth of a
    small build's time. The comments are the same: the relation's description, then each
    documented column's. A model with an enforced contract has exactly its documented columns
    (dbt fails its build otherwise), so only the other models' columns are looked up, and a
    documented column missing from one is skipped with dbt's warning, as before. -#}
{% macro duckdb__persist_docs(relation, model, for_relation, for_columns) -%}
  {%- set statements = [] -%}
  {%- if for_relation and config.persist_relation_docs() and model.description -%}
    {%- do statements.append(
          "comment on " ~ relation.type ~ " " ~ relation ~ " is "
          ~ duckdb_escape_comment(model.description)) -%}
  {%- endif -%}
  {%- if for_columns and config.persist_column_docs() and model.columns -%}
    {%- set columns = model.columns -%}
    {%- if not model.config.contract.enforced -%}
      {%- set existing = adapter.get_columns_in_relation(relation) | map(attribute="name") | list -%}
      {%- set columns = validate_doc_columns(relation, model.columns, existing) -%}
    {%- endif -%}
    {%- for name, column in columns.items() -%}
      {%- do statements.append(
            "comment on column " ~ relation ~ "."
            ~ (adapter.quote(name) if column['quote'] else name)
            ~ " is " ~ duckdb_escape_comment(column['description'])) -%}
    {%- endfor -%}
  {%- endif -%}
  {%- if statements -%}
    {%- call statement('persist_docs') -%}
      {{ statements | join(";\n") }}
    {%- endcall -%}
  {%- endif -%}
{%- endmacro %}
