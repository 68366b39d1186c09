"""The option table of ``opensearch``: Fluent Bit's options, named as it names them, plus Max_Request_Size."""

from __future__ import annotations

from shipper.options import Option
from shipper.outputs.opensearch.request import DEFAULT_MAX_REQUEST_SIZE, WRITE_OPERATIONS
from shipper.plugin import NET_OPTIONS, TLS_OPTIONS

OPTIONS: tuple[Option, ...] = (
    Option("host", default="127.0.0.1", help="OpenSearch host"),
    Option("port", "int", default=9200, help="OpenSearch port"),
    Option("path", default="", help="path prefix before /_bulk (reverse proxies)"),
    Option("index", default="fluent-bit", help="index name; record accessor and strftime allowed"),
    Option("type", default="_doc", help="document type sent as _type (see Suppress_Type_Name)"),
    Option("suppress_type_name", "bool", default="off", help="omit _type (needed by OpenSearch 2.x)"),
    Option("logstash_format", "bool", default="off", help="index = prefix + separator + record date"),
    Option("logstash_prefix", default="logstash", help="index prefix with Logstash_Format"),
    Option("logstash_prefix_separator", default="-", help="between prefix and date"),
    Option("logstash_prefix_key", help="record accessor whose value replaces Logstash_Prefix"),
    Option("logstash_dateformat", default="%Y.%m.%d", help="strftime format of the index date"),
    Option("current_time_index", "bool", default="off", help="name indices by flush time, not record time"),
    Option("time_key", default="@timestamp", help="key of the formatted record time in each document"),
    Option("time_key_format", default="%Y-%m-%dT%H:%M:%S", help="strftime format of Time_Key"),
    Option("time_key_nanos", "bool", default="off", help="9 fractional digits instead of 3"),
    Option("include_tag_key", "bool", default="off", help="add the tag to each document"),
    Option("tag_key", default="flb-key", help="key of the tag with Include_Tag_Key"),
    Option("generate_id", "bool", default="off", help="_id = hash of the document (idempotent retries)"),
    Option("id_key", help="record accessor whose string value is the _id"),
    Option("write_operation", default="create", choices=WRITE_OPERATIONS, help="bulk action"),
    Option("replace_dots", "bool", default="off", help="turn '.' in keys into '_'"),
    Option("pipeline", help="ingest pipeline (adds ?pipeline=NAME)"),
    Option("buffer_size", default="512k", ignored=True, help="accepted for compatibility; responses are always read whole"),
    Option("trace_output", "bool", default="off", help="print every bulk body to standard output"),
    Option("trace_error", "bool", default="off", help="log the full response of failed requests"),
    Option("http_user", help="basic authentication user"),
    Option("http_passwd", default="", help="basic authentication password"),
    Option("aws_auth", "bool", default="off", help="sign requests with AWS SigV4"),
    Option("aws_region", help="region of the Amazon OpenSearch domain or collection"),
    Option("aws_sts_endpoint", help="custom STS endpoint for AWS_Role_ARN"),
    Option("aws_role_arn", help="IAM role to assume for signing"),
    Option("aws_external_id", help="external ID for AWS_Role_ARN"),
    Option("aws_profile", help="shared config/credentials profile"),
    Option("aws_service_name", default="es", choices=("es", "aoss"), help="es (managed) or aoss (Serverless)"),
    Option("compress", choices=("gzip",), help="gzip request bodies"),
    Option("max_request_size", "size", default=DEFAULT_MAX_REQUEST_SIZE,
           help="split bulk bodies above this many bytes (shipper option; default 5 MiB)"),
    Option("net.read_timeout", "duration", default="60", help="seconds to wait for a response"),
    *NET_OPTIONS,
    *TLS_OPTIONS,
)
