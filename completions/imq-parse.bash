_imq__parse() {
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
                cmd="imq__parse"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        imq__parse)
            opts="-p -i -o -q -h -V --intelmq --params --param --set --raw --feed --paths --list --list-feeds --shadowserver-schema-update --shadowserver-schema-import --sha256 --input --output --path --stats --stats-format --harmonization --dump --strict --line-buffered --max-line-bytes --from-dump --quiet --verbose --generate --help --version abusech-feodotracker alienvault alienvault-otx anubisnetworks bambenek blocklistde blueliv-crimeserver calidog-certstream cert-eu-csv ci-army cleanmx cymru-cap-program cymru-full-bogons cznic-haas cznic-proki danger-rulez dataplane dshield-asn dshield-block dyn eset fireeye fraunhofer-dga generic-csv github-feed hibp-callback html-table ioc-extractor json key-value malwarepatrol-dansguardian malwareurl mcafee-atd microsoft-bingmurls microsoft-ctip misp n6-stomp openphish openphish-commercial phishtank shadowserver shadowserver-json shodan spamhaus-cert spamhaus-drop surbl threatminer turris vxvault zoneh"
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
                --param)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -p)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --set)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --feed)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --paths)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --shadowserver-schema-update)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --shadowserver-schema-import)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sha256)
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
    complete -F _imq__parse -o nosort -o bashdefault -o default imq-parse
else
    complete -F _imq__parse -o bashdefault -o default imq-parse
fi
