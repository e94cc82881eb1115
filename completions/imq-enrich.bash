_imq__enrich() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="imq__enrich"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        imq__enrich)
            opts="-i -o -q -h -V --intelmq --params --list --input --output --path --stats --stats-format --harmonization --dump --strict --line-buffered --max-line-bytes --from-dump --quiet --verbose --generate --help --version abusix aggregate asn csv_converter cymru_whois deduplicator do_portal domain_suffix domain_valid fake field_reducer format_field generic_db_lookup geohash geoip gethostbyname http_content http_status idea jinja modify national_cert_contact_certat rdap recordedfuture_iprisk remove_affix reverse_dns rfc1918 ripe taxonomy threshold tor_nodes truncate_by_delimiter trusted_introducer_lookup tuency url url2fqdn uwhoisd wait"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --intelmq)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --params)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --input)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -i)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -o)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --path)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --stats)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --stats-format)
                    COMPREPLY=($(compgen -W "prom json" -- "${cur}"))
                    return 0
                    ;;
                --harmonization)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dump)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-line-bytes)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --generate)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
    esac
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _imq__enrich -o nosort -o bashdefault -o default imq-enrich
else
    complete -F _imq__enrich -o bashdefault -o default imq-enrich
fi
