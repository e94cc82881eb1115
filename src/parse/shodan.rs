//! Shodan stream / API results, one host service per report
//! (IntelMQ `intelmq.bots.parsers.shodan.parser`).
//!
//! Every report holds one Shodan banner (a JSON object) and makes one event.
//! The full mode walks the banner along [`MAPPING`], converting a few values on
//! the way (see [`convert`]); `minimal_mode` keeps a handful of fields and the
//! whole banner under `extra.shodan`.

use super::{Params, Parser, Records};
use crate::harmonization::{self, FieldType};
use crate::message::{Add, Message};
use crate::pipeline::Fail;
use crate::pyfmt::py_str;
use serde_json::{Map, Value};

/// Where a banner key goes: a field, or a nested object mapped further.
enum M {
    Leaf(&'static str),
    Node(&'static [(&'static str, M)]),
}
use crate::pyfmt::py_truthy as truthy;
use M::{Leaf, Node};

/// Banner keys to event fields, as IntelMQ maps them. Two keys naming the same
/// field (`ssl.cert.issuer` `C` and `O`): the later one in the banner wins.
const MAPPING: &[(&str, M)] = &[
    ("hash", Leaf("extra.shodan.event_hash")),
    ("hostnames", Leaf("source.reverse_dns")),
    ("org", Leaf("event_description.target")),
    ("data", Leaf("extra.data")),
    ("port", Leaf("source.port")),
    ("transport", Leaf("protocol.transport")),
    ("isp", Leaf("extra.isp")),
    ("platform", Leaf("extra.platform")),
    ("product", Leaf("extra.product")),
    ("device", Leaf("extra.device")),
    ("devicetype", Leaf("extra.devicetype")),
    ("info", Leaf("extra.info")),
    ("mac", Leaf("extra.mac")),
    ("version", Leaf("extra.version")),
    ("vulns", Leaf("extra.vulns")),
    (
        "ftp",
        Node(&[
            ("features", Leaf("extra.ftp.features")),
            ("anonymous", Leaf("extra.ftp.anonymous")),
        ]),
    ),
    (
        "http",
        Node(&[
            ("title", Leaf("extra.http.html.title")),
            ("html", Leaf("extra.http.html.data")),
            ("location", Leaf("extra.http.location")),
            ("components", Leaf("extra.http.components")),
            ("server", Leaf("extra.http.server")),
            ("host", Leaf("extra.http.host")),
            ("waf", Leaf("extra.http.waf")),
        ]),
    ),
    (
        "isakmp",
        Node(&[
            ("initiator_spi", Leaf("extra.isakmp.initiator_spi")),
            ("responder_spi", Leaf("extra.isakmp.responder_spi")),
            ("msg_id", Leaf("extra.isakmp.msg_id")),
            ("next_payload", Leaf("extra.isakmp.next_payload")),
            ("exchange_type", Leaf("extra.isakmp.exchange_type")),
            ("length", Leaf("extra.isakmp.length")),
            ("version", Leaf("extra.isakmp.version")),
            (
                "flags",
                Node(&[
                    ("encryption", Leaf("extra.isakmp.encryption")),
                    ("authentication", Leaf("extra.isakmp.authentication")),
                    ("commit", Leaf("extra.isakmp.commit")),
                ]),
            ),
        ]),
    ),
    ("asn", Leaf("source.asn")),
    (
        "location",
        Node(&[
            ("city", Leaf("source.geolocation.city")),
            ("region_code", Leaf("extra.region_code")),
            ("postal_code", Leaf("extra.postal_code")),
            ("longitude", Leaf("source.geolocation.longitude")),
            ("country_code", Leaf("source.geolocation.cc")),
            ("latitude", Leaf("source.geolocation.latitude")),
            ("area_code", Leaf("extra.area_code")),
            ("dma_code", Leaf("extra.dma_code")),
        ]),
    ),
    ("timestamp", Leaf("time.source")),
    ("domains", Leaf("source.fqdn")),
    ("ip_str", Leaf("source.ip")),
    ("os", Leaf("extra.os_name")),
    (
        "opts",
        Node(&[
            (
                "amqp",
                Node(&[
                    ("mechanisms", Leaf("extra.amqp.mechanism")),
                    (
                        "server_properties",
                        Node(&[(
                            "capabilities",
                            Node(&[
                                ("basic.nack", Leaf("extra.amqp.capabilities.nack")),
                                (
                                    "consumer_cancel_notify",
                                    Leaf("extra.amqp.capabilities.consumer_cancel_notify"),
                                ),
                                (
                                    "exchange_exchange_bindings",
                                    Leaf("extra.amqp.capabilities.exchange_exchange_bindings"),
                                ),
                                (
                                    "publisher_confirms",
                                    Leaf("extra.amqp.capabilities.publisher_confirms"),
                                ),
                                ("copyright", Leaf("extra.amqp.copyright")),
                                ("information", Leaf("extra.amqp.information")),
                                ("platform", Leaf("extra.amqp.platform")),
                                ("product", Leaf("extra.amqp.product")),
                                ("version", Leaf("extra.amqp.version")),
                            ]),
                        )]),
                    ),
                ]),
            ),
            (
                "dhcp",
                Node(&[
                    ("broadcast", Leaf("extra.dhcp.broadcast")),
                    ("chaddr", Leaf("extra.dhcp.chaddr")),
                    ("ciaddr", Leaf("extra.dhcp.ciaddr")),
                    ("file", Leaf("extra.dhcp.file")),
                    ("giaddr", Leaf("extra.dhcp.giaddr")),
                    ("siaddr", Leaf("extra.dhcp.siaddr")),
                    ("sname", Leaf("extra.dhcp.sname")),
                    ("yiaddr", Leaf("extra.dhcp.yiaddr")),
                ]),
            ),
            ("heartbleed", Leaf("extra.heartbleed")),
            ("ip", Leaf("extra.ip")),
            (
                "ldap",
                Node(&[
                    (
                        "configurationNamingContext",
                        Leaf("extra.ldap.configurationnamingcontext"),
                    ),
                    (
                        "defaultNamingContext",
                        Leaf("extra.ldap.defaultnamingcontext"),
                    ),
                    ("dnsHostName", Leaf("extra.ldap.dnshostname")),
                    ("dsServiceName", Leaf("extra.ldap.dsservicename")),
                    ("errorMessage", Leaf("extra.ldap.errormessage")),
                    ("ldapServiceName", Leaf("extra.ldap.ldapservicename")),
                    ("namingContexts", Leaf("extra.ldap.namingcontexts")),
                    ("resultCode", Leaf("extra.ldap.resultcode")),
                    (
                        "rootDomainNamingContext",
                        Leaf("extra.ldap.rootdomainnamingcontext"),
                    ),
                    (
                        "schemaNamingContext",
                        Leaf("extra.ldap.schemanamingcontext"),
                    ),
                    ("serverName", Leaf("extra.ldap.servername")),
                    ("subschemaSubentry", Leaf("extra.ldap.subschemasubentry")),
                    (
                        "supportedCapabilities",
                        Leaf("extra.ldap.supportedcapabilities"),
                    ),
                    ("supportedControl", Leaf("extra.ldap.supportedcontrol")),
                    ("supportedExtension", Leaf("extra.ldap.supportedextension")),
                    (
                        "supportedLDAPPolicies",
                        Leaf("extra.ldap.supportedldappolicies"),
                    ),
                    (
                        "supportedLDAPVersion",
                        Leaf("extra.ldap.supportedldapversion"),
                    ),
                    (
                        "supportedSASLMechanisms",
                        Leaf("extra.ldap.supportedsaslmechanisms"),
                    ),
                ]),
            ),
            ("raw", Leaf("extra.raw")),
            ("text", Leaf("extra.text")),
        ]),
    ),
    ("tags", Leaf("extra.tags")),
    (
        "telnet",
        Node(&[
            ("do", Leaf("extra.telnet.do")),
            ("dont", Leaf("extra.telnet.dont")),
            ("will", Leaf("extra.telnet.will")),
            ("wont", Leaf("extra.telnet.wont")),
        ]),
    ),
    (
        "afp",
        Node(&[
            ("machine_type", Leaf("extra.afp.machine_type")),
            ("network_addresses", Leaf("extra.afp.network_addresses")),
            ("uams", Leaf("extra.afp.uams")),
            ("utf8_server_name", Leaf("extra.afp.server_name")),
        ]),
    ),
    (
        "checkpoint",
        Node(&[
            ("firewall_host", Leaf("extra.checkpoint.firewall_host")),
            (
                "smartcenter_host",
                Leaf("extra.checkpoint.smartcenter_host"),
            ),
        ]),
    ),
    ("coap", Node(&[("resources", Leaf("extra.coap.resources"))])),
    (
        "dns",
        Node(&[
            ("recursive", Leaf("extra.dns.recursive")),
            ("resolver_hostname", Leaf("extra.dns.resolver_hostname")),
            ("resolver_id", Leaf("extra.dns.resolver_id")),
            ("software", Leaf("extra.dns.software")),
        ]),
    ),
    (
        "elastic",
        Node(&[(
            "cluster",
            Node(&[
                ("cluster_name", Leaf("extra.elastic.cluster.cluster_name")),
                ("status", Leaf("extra.elastic.cluster.status")),
            ]),
        )]),
    ),
    (
        "etcd",
        Node(&[
            ("api", Leaf("extra.etcd.api")),
            ("clientURLs", Leaf("extra.etcd.clienturls")),
            ("name", Leaf("extra.etcd.name")),
            ("peerURLs", Leaf("extra.etcd.peerurls")),
            ("state", Leaf("extra.etcd.state")),
            ("version", Leaf("extra.etcd.version")),
        ]),
    ),
    (
        "ethernetip",
        Node(&[
            ("device_type", Leaf("extra.ethernetip.device_type")),
            ("ip", Leaf("extra.ethernetip.ip")),
            ("product_name", Leaf("extra.ethernetip.product_name")),
            ("revision_major", Leaf("extra.ethernetip.revision_major")),
            ("revision_minor", Leaf("extra.ethernetip.revision_minor")),
            ("serial", Leaf("extra.ethernetip.serial")),
            ("vendor_id", Leaf("extra.ethernetip.vendor_id")),
            ("version", Leaf("extra.ethernetip.version")),
        ]),
    ),
    (
        "hp_ilo",
        Node(&[
            ("ilo_firmware", Leaf("extra.hp_ilo.ilo_firmware")),
            ("ilo_serial_number", Leaf("extra.hp_ilo.ilo_serial_number")),
            ("ilo_type", Leaf("extra.hp_ilo.ilo_type")),
            ("server_type", Leaf("extra.hp_ilo.server_type")),
        ]),
    ),
    (
        "influxdb",
        Node(&[
            ("bind_address", Leaf("extra.influxdb.bind_address")),
            ("build", Leaf("extra.influxdb.build")),
            ("databases", Leaf("extra.influxdb.databases")),
            ("go_arch", Leaf("extra.influxdb.go_arch")),
            ("go_os", Leaf("extra.influxdb.go_os")),
            ("version", Leaf("extra.influxdb.version")),
        ]),
    ),
    (
        "knx",
        Node(&[
            (
                "device",
                Node(&[
                    ("friendly_name", Leaf("extra.knx.device.friendly_name")),
                    ("knx_address", Leaf("extra.knx.device.knx_address")),
                    ("mac", Leaf("extra.knx.device.mac")),
                    (
                        "multicast_address",
                        Leaf("extra.knx.device.multicast_address"),
                    ),
                    ("serial", Leaf("extra.knx.device.serial")),
                ]),
            ),
            (
                "supported_services",
                Node(&[
                    ("core", Leaf("extra.knx.supported_services.core")),
                    (
                        "device_management",
                        Leaf("extra.knx.supported_services.device_management"),
                    ),
                    ("routing", Leaf("extra.knx.supported_services.routing")),
                    ("tunneling", Leaf("extra.knx.supported_services.tunneling")),
                ]),
            ),
        ]),
    ),
    (
        "lantronix",
        Node(&[
            ("gateway", Leaf("extra.lantronix.gateway")),
            ("ip", Leaf("extra.lantronix.ip")),
            ("mac", Leaf("extra.lantronix.mac")),
            ("type", Leaf("extra.lantronix.type")),
            ("version", Leaf("extra.lantronix.version")),
        ]),
    ),
    (
        "mongodb",
        Node(&[
            ("authentication", Leaf("extra.mongodb.authentication")),
            (
                "buildInfo",
                Node(&[
                    (
                        "buildEnvironment",
                        Node(&[
                            ("target_arch", Leaf("extra.mongodb.target_arch")),
                            ("target_os", Leaf("extra.mongodb.target_os")),
                        ]),
                    ),
                    (
                        "openssl",
                        Node(&[
                            ("compiled", Leaf("extra.mongodb.openssl.compiled")),
                            ("running", Leaf("extra.mongodb.openssl.running")),
                        ]),
                    ),
                    ("debug", Leaf("extra.mongodb.debug")),
                    ("gitVersion", Leaf("extra.mongodb.gitversion")),
                    ("version", Leaf("extra.mongodb.version")),
                ]),
            ),
        ]),
    ),
    (
        "mssql",
        Node(&[
            ("dns_computer_name", Leaf("extra.mssql.dns_computer_name")),
            ("dns_domain_name", Leaf("extra.mssql.dns_domain_name")),
            ("dns_forest_name", Leaf("extra.mssql.dns_forest_name")),
            (
                "netbios_computer_name",
                Leaf("extra.mssql.netbios_computer_name"),
            ),
            (
                "netbios_domain_name",
                Leaf("extra.mssql.netbios_domain_name"),
            ),
            ("os_version", Leaf("extra.mssql.os_version")),
            ("target_realm", Leaf("extra.mssql.target_realm")),
        ]),
    ),
    (
        "netbios",
        Node(&[
            ("mac", Leaf("extra.netbios.mac")),
            ("networks", Leaf("extra.netbios.networks")),
            ("server_name", Leaf("extra.netbios.server_name")),
        ]),
    ),
    (
        "ntp",
        Node(&[
            ("digest", Leaf("extra.ntp.digest")),
            ("host", Leaf("extra.ntp.host")),
            ("processor", Leaf("extra.ntp.processor")),
            ("stratum", Leaf("extra.ntp.stratum")),
            ("system", Leaf("extra.ntp.system")),
            ("version", Leaf("extra.ntp.version")),
        ]),
    ),
    (
        "redis",
        Node(&[
            ("keys", Node(&[("data", Leaf("extra.redis.keys.data"))])),
            (
                "replication",
                Node(&[
                    ("master_host", Leaf("extra.redis.replication.master_host")),
                    ("role", Leaf("extra.redis.replication.role")),
                ]),
            ),
            (
                "server",
                Node(&[
                    ("os", Leaf("extra.redis.server.os")),
                    ("redis_mode", Leaf("extra.redis.mode")),
                    ("redis_version", Leaf("extra.redis.version")),
                    ("tcp_port", Leaf("extra.redis.server.tcp_port")),
                ]),
            ),
        ]),
    ),
    ("rsync", Node(&[("modules", Leaf("extra.rsync.modules"))])),
    (
        "smb",
        Node(&[
            ("anonymous", Leaf("extra.smb.anonymous")),
            ("capabilities", Leaf("extra.smb.capabilities")),
            ("os", Leaf("extra.smb.os")),
            ("smb_version", Leaf("extra.smb.smb_version")),
            ("software", Leaf("extra.smb.software")),
        ]),
    ),
    (
        "snmp",
        Node(&[
            ("contact", Leaf("extra.snmp.contact")),
            ("description", Leaf("extra.snmp.description")),
            ("location", Leaf("extra.snmp.location")),
            ("name", Leaf("extra.snmp.name")),
            ("objectid", Leaf("extra.snmp.objectid")),
            ("ordescr", Leaf("extra.snmp.ordescr")),
        ]),
    ),
    (
        "ssh",
        Node(&[
            ("cipher", Leaf("extra.ssh.cipher")),
            ("fingerprint", Leaf("extra.ssh.fingerprint")),
            ("mac", Leaf("extra.ssh.mac")),
            ("type", Leaf("extra.ssh.type")),
        ]),
    ),
    (
        "ssl",
        Node(&[
            (
                "cert",
                Node(&[
                    ("expired", Leaf("extra.ssl.cert.expired")),
                    (
                        "issuer",
                        Node(&[
                            ("C", Leaf("extra.ssl.cert.issuer.c")),
                            ("O", Leaf("extra.ssl.cert.issuer.c")),
                            ("OU", Leaf("extra.ssl.cert.issuer.ou")),
                            ("CN", Leaf("extra.ssl.cert.issuer.cn")),
                        ]),
                    ),
                    (
                        "pubkey",
                        Node(&[
                            ("bits", Leaf("extra.ssl.cert.pubkey.bits")),
                            ("type", Leaf("extra.ssl.cert.pubkey.type")),
                        ]),
                    ),
                    ("serial", Leaf("extra.ssl.cert.serial")),
                    (
                        "subject",
                        Node(&[
                            ("C", Leaf("extra.ssl.cert.subject.c")),
                            ("O", Leaf("extra.ssl.cert.subject.c")),
                            ("OU", Leaf("extra.ssl.cert.subject.ou")),
                            ("CN", Leaf("extra.ssl.cert.subject.cn")),
                        ]),
                    ),
                    ("version", Leaf("extra.ssl.cert.version")),
                ]),
            ),
            (
                "cipher",
                Node(&[
                    ("bits", Leaf("extra.ssl.cipher.bits")),
                    ("name", Leaf("extra.ssl.cipher.name")),
                    ("version", Leaf("extra.ssl.cipher.version")),
                ]),
            ),
            (
                "dhparams",
                Node(&[
                    ("bits", Leaf("extra.ssl.dhparams.bits")),
                    ("fingerprint", Leaf("extra.ssl.dhparams.fingerprint")),
                    ("generator", Leaf("extra.ssl.dhparams.generator")),
                    ("prime", Leaf("extra.ssl.dhparams.prime")),
                    ("public_key", Leaf("extra.ssl.dhparams.public_key")),
                ]),
            ),
        ]),
    ),
    (
        "ubiquiti",
        Node(&[
            ("hostname", Leaf("extra.ubiquiti.hostname")),
            ("ip", Leaf("extra.ubiquiti.ip")),
            ("ip_alt", Leaf("extra.ubiquiti.ip_alt")),
            ("mac", Leaf("extra.ubiquiti.mac")),
            ("mac_alt", Leaf("extra.ubiquiti.mac_alt")),
            ("product", Leaf("extra.ubiquiti.product")),
            ("version", Leaf("extra.ubiquiti.version")),
        ]),
    ),
    (
        "unitronics_pcom",
        Node(&[
            (
                "hardware_version",
                Leaf("extra.unitronics_pcom.hardware_version"),
            ),
            ("model", Leaf("extra.unitronics_pcom.model")),
            ("os_build", Leaf("extra.unitronics_pcom.os_build")),
            ("os_version", Leaf("extra.unitronics_pcom.os_version")),
            ("plc_name", Leaf("extra.unitronics_pcom.plc_name")),
            ("plc_unique_id", Leaf("extra.unitronics_pcom.plc_unique_id")),
            ("uid_master", Leaf("extra.unitronics_pcom.uid_master")),
        ]),
    ),
    (
        "upnp",
        Node(&[
            ("device_type", Leaf("extra.upnp.device_type")),
            ("friendly_name", Leaf("extra.upnp.friendly_name")),
            ("manufacturer", Leaf("extra.upnp.manufacturer")),
            ("model_description", Leaf("extra.upnp.model_description")),
            ("model_name", Leaf("extra.upnp.model_name")),
            ("model_number", Leaf("extra.upnp.model_number")),
            ("serial_number", Leaf("extra.upnp.serial_number")),
            ("udn", Leaf("extra.upnp.udn")),
            ("upc", Leaf("extra.upnp.upc")),
        ]),
    ),
    (
        "vmware",
        Node(&[
            ("api_type", Leaf("extra.vmware.api_type")),
            ("api_version", Leaf("extra.vmware.api_version")),
            ("build", Leaf("extra.vmware.build")),
            ("full_name", Leaf("extra.vmware.full_name")),
            ("name", Leaf("extra.vmware.name")),
            ("os_type", Leaf("extra.vmware.os_type")),
            ("product_line_id", Leaf("extra.vmware.product_line_id")),
            ("vendor", Leaf("extra.vmware.vendor")),
            ("version", Leaf("extra.vmware.version")),
        ]),
    ),
];

/// `minimal_mode`: event field and banner key.
const MAPPING_MINIMAL: &[(&str, &str)] = &[
    ("source.ip", "ip_str"),
    ("source.asn", "asn"),
    ("source.port", "port"),
    ("protocol.transport", "transport"),
    ("event_description.target", "org"),
    ("extra.data", "data"),
    ("extra.html_title", "title"),
    ("extra.tags", "tags"),
];

/// Banner keys naming the scanned application protocol (`protocol.application`).
const PROTOCOLS: &[&str] = &[
    "afp",
    "bgp",
    "coap",
    "dns",
    "ethernetip",
    "ftp",
    "hp_ilo",
    "http",
    "isakmp",
    "iscsi",
    "knx",
    "lantronix",
    "minecraft",
    "mqtt",
    "msrpc",
    "netbios",
    "ntp",
    "redis",
    "rip",
    "rsync",
    "smb",
    "snmp",
    "ssh",
    "telnet",
    "unitronics_pcom",
    "upnp",
];

/// Keys every banner may have: they say nothing about the kind of service.
const COMMON_KEYS: &[&str] = &[
    "_id",
    "_shodan",
    "asn",
    "data",
    "device",
    "devicetype",
    "domains",
    "hash",
    "hostnames",
    "html",
    "ip",
    "ip_str",
    "isp",
    "location",
    "opts",
    "org",
    "os",
    "port",
    "tags",
    "timestamp",
    "transport",
];

pub struct Shodan {
    minimal: bool,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Parser>> {
    // `ignore_errors` is a parameter of IntelMQ's bot that its code never reads:
    // known (not a typo), and without effect, as there.
    let _ = p.get("ignore_errors");
    let minimal = p.get("minimal_mode").map(truthy).unwrap_or(false);
    Ok(Box::new(Shodan { minimal }))
}

impl Parser for Shodan {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = super::feedio::decode(data);
        let result = self.event(&text, out);
        out.record_one(data, result)
    }
}

/// A conversion found nothing usable: the field is left out.
struct NoValue;

/// The conversions applied to some banner values, keyed by their dotted path.
/// `Err(Fail)` where IntelMQ's conversion raises something else than its
/// "no value" signal (the whole banner then fails).
fn convert(path: &str, v: Value) -> Result<Result<Value, NoValue>, Fail> {
    Ok(match path {
        "ftp.features" | "vulns" => dict_dict_to_obj_list(v)?,
        "timestamp" => Ok(Value::String(timestamp(&v)?)),
        "hostnames" | "domains" => first_fqdn(&v),
        "coap.resources" | "http.components" | "mac" | "rsync.modules" => match v {
            Value::Object(m) => Ok(Value::Array(m.into_iter().map(|(k, _)| k.into()).collect())),
            _ => Err(NoValue),
        },
        "opts.ldap.supportedControl" | "opts.ldap.supportedLDAPVersion" => Ok(match v {
            Value::Array(_) => v,
            other => Value::Array(vec![other]),
        }),
        "ssl.cert.serial" | "ssl.dhparams.generator" => Ok(Value::String(py_str(&v))),
        _ => Ok(v),
    })
}

/// Shodan's times are naive UTC: IntelMQ appends `+00`.
fn timestamp(v: &Value) -> Result<String, Fail> {
    match v {
        Value::String(s) => Ok(format!("{s}+00")),
        other => Err(Fail::Reject(format!("timestamp is not a string: {other}"))),
    }
}

/// `{"A": {...}, "B": {...}}` to `[{..., "identifier": "A"}, ...]`.
fn dict_dict_to_obj_list(v: Value) -> Result<Result<Value, NoValue>, Fail> {
    let Value::Object(m) = v else {
        return Err(Fail::Reject(format!(
            "expected an object of objects, got {v}"
        )));
    };
    let mut list = Vec::with_capacity(m.len());
    for (k, inner) in m {
        let Value::Object(mut inner) = inner else {
            return Ok(Err(NoValue));
        };
        inner.insert("identifier".into(), Value::String(k));
        list.push(Value::Object(inner));
    }
    Ok(Ok(Value::Array(list)))
}

/// The first name of a list that is a valid FQDN once sanitized (a string is
/// taken character by character, as Python iterates it).
fn first_fqdn(v: &Value) -> Result<Value, NoValue> {
    let valid = |s: &Value| harmonization::is_valid_sanitized(FieldType::Fqdn, s);
    match v {
        Value::Array(a) => a.iter().find(|s| valid(s)).cloned().ok_or(NoValue),
        Value::String(s) => s
            .chars()
            .map(|c| Value::String(c.to_string()))
            .find(valid)
            .ok_or(NoValue),
        _ => Err(NoValue),
    }
}

/// The fields of `data` along `mapping`, in banner order (a field named twice:
/// the later value wins).
fn apply_mapping(
    mapping: &[(&str, M)],
    data: &Map<String, Value>,
    path: &str,
    found: &mut Vec<(&'static str, Value)>,
) -> Result<(), Fail> {
    for (key, value) in data {
        if value.is_null() {
            continue;
        }
        let Some((_, m)) = mapping.iter().find(|(k, _)| k == key) else {
            continue;
        };
        let here = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        match m {
            Node(sub) => match value {
                Value::Object(inner) => apply_mapping(sub, inner, &here, found)?,
                other => {
                    return Err(Fail::Reject(format!(
                        "{here}: expected an object, got {other}"
                    )))
                }
            },
            Leaf(field) => {
                if let Ok(v) = convert(&here, value.clone())? {
                    match found.iter_mut().find(|(f, _)| f == field) {
                        Some(slot) => slot.1 = v,
                        None => found.push((field, v)),
                    }
                }
            }
        }
    }
    Ok(())
}

impl Shodan {
    fn event(&self, text: &str, out: &Records) -> Result<Message, Fail> {
        let decoded: Value = super::pyjson::loads(text)?;
        let Value::Object(banner) = decoded else {
            return Err(Fail::Reject("report is not a JSON object".into()));
        };
        let mut ev = out.new_event();
        ev.add("raw", text)?;
        if self.minimal {
            for (field, key) in MAPPING_MINIMAL {
                if let Some(v) = banner.get(*key).filter(|v| truthy(v)) {
                    ev.add(field, v.clone())?;
                }
            }
            if let Some(loc) = banner.get("location") {
                let Value::Object(loc) = loc else {
                    return Err(Fail::Reject("location is not an object".into()));
                };
                if let Some(cc) = loc.get("country_code") {
                    ev.add("source.geolocation.cc", cc.clone())?;
                }
            }
            let ts = banner
                .get("timestamp")
                .ok_or_else(|| Fail::Reject("banner without timestamp".into()))?;
            ev.add("time.source", timestamp(ts)?)?;
            ev.add("extra.shodan", Value::Object(banner))?;
            ev.add("classification.type", "other")?;
            ev.add("classification.identifier", "network-scan")?;
            return Ok(ev);
        }
        let mut found = Vec::new();
        apply_mapping(MAPPING, &banner, "", &mut found)?;
        for (field, v) in found {
            // IntelMQ's `update`: as given if valid, else sanitized (or fail).
            let as_is = Add {
                sanitize: false,
                overwrite: Some(true),
            };
            if !matches!(ev.add_with(field, v.clone(), as_is), Ok(true)) {
                let sanitized = Add {
                    sanitize: true,
                    overwrite: Some(true),
                };
                ev.add_with(field, v, sanitized)?;
            }
        }
        ev.add("classification.type", "other")?;
        ev.add("classification.identifier", "shodan-scan")?;
        let mut unique: Vec<&String> = banner
            .keys()
            .filter(|k| !COMMON_KEYS.contains(&k.as_str()))
            .collect();
        unique.sort();
        let protocol = unique
            .iter()
            .find(|k| PROTOCOLS.contains(&k.as_str()))
            .map(|k| k.to_string());
        let unique: Vec<Value> = unique
            .into_iter()
            .map(|k| Value::String(k.clone()))
            .collect();
        ev.add("extra.shodan.unique_keys", Value::Array(unique))?;
        // IntelMQ takes any one of several protocol keys (set order); we take the
        // first by name.
        if let Some(p) = protocol {
            ev.add("protocol.application", p)?;
        }
        if let Some(Value::Array(vulns)) = ev.get("extra.vulns") {
            let mut verified = Vec::new();
            for vuln in vulns {
                let flag = vuln
                    .get("verified")
                    .ok_or_else(|| Fail::Reject("vulnerability without 'verified'".into()))?;
                if truthy(flag) {
                    let id = vuln.get("identifier").cloned().unwrap_or(Value::Null);
                    verified.push(id);
                }
            }
            ev.add("extra.verified_vulns", Value::Array(verified))?;
        }
        Ok(ev)
    }
}
