import random
random.seed(2)
cc = ["AT","DE","US","FR","NL","CH","IT","BE","PL","CZ"]
types = ["c2-server","phishing","scanner","malware-distribution","spam","ddos","brute-force"]
out = []
for i in range(200):
    k = i % 5
    if k == 0:
        out.append("if source.geolocation.cc == '%s' && source.asn == %d { add comment = 'rule %d' }" % (random.choice(cc), random.randint(1,65000), i))
    elif k == 1:
        out.append("if classification.type :in ['%s', '%s'] && source.port > %d && source.port < %d { path 'p%d' }" % (random.choice(types), random.choice(types), 65000, 65100, i))
    elif k == 2:
        out.append("if source.ip << '%d.%d.0.0/16' { add extra.rule = %d }" % (random.choice([192,198,203,10]), random.randint(0,255), i))
    elif k == 3:
        out.append("if source.fqdn =~ '^host%d\\.' { drop }" % random.randint(0,10**7))
    else:
        out.append("if :exists extra.rule%d || feed.name == 'Other %d' { update feed.name = 'x' }" % (i, i))
print("\n".join(out))
