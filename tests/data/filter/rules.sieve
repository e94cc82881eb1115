# Route Austrian events, drop scanners, tag the rest.
if classification.type == 'scanner' {
    drop
}
if source.geolocation.cc == 'AT' && source.ip << '192.0.2.0/24' {
    path 'austria'
} elif source.asn :in [64497] {
    add comment = 'asn 64497'
}
