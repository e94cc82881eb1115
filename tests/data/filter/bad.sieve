if source.ip == '192.0.2.1' {
    add comment = 'x'
}
if comment == 'x' {
    frobnicate
}
