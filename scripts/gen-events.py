import json, random, sys
random.seed(1)
cc = ["AT","DE","US","FR","NL","CH","IT"]
types = ["c2-server","phishing","scanner","malware-distribution","spam","ddos"]
n = int(sys.argv[1])
out = sys.stdout
for i in range(n):
    ev = {"feed.name":"Bench Feed","feed.provider":"bench","classification.taxonomy":"malicious-code",
          "classification.type":random.choice(types),
          "source.ip":"%d.%d.%d.%d"%(random.choice([192,198,203,10]),random.randint(0,255),random.randint(0,255),random.randint(1,254)),
          "source.asn":random.randint(1,65000),"source.geolocation.cc":random.choice(cc),
          "source.port":random.randint(1,65535),"source.fqdn":"host%d.example.com"%i,
          "time.source":"2024-%02d-%02dT%02d:00:00+00:00"%(random.randint(1,12),random.randint(1,28),random.randint(0,23)),
          "time.observation":"2024-12-01T00:00:00+00:00","raw":"ZXhhbXBsZSByYXcgbGluZQ==","__type":"Event"}
    out.write(json.dumps(ev, separators=(",",":"))+"\n")
