{#- Schemas are named by layer (staging, intermediate, marts, config), not prefixed with the target
    schema: BI tools read `marts.<model>` from the published file whatever the target. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
