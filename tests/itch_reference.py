#!/usr/bin/env python3
# An independent reference for tests/test_itch_book.cpp: decodes an ITCH 5.0 BinaryFILE with Python's
# struct module (not the C++ decoder), applies the print rules of feedhandlers/itch_book.hpp (E at the
# resting order's price, C when printable, P, Q with shares > 0; unknown orders counted) and prints the
# figures the test expects. Usage: python3 tests/itch_reference.py tests/data/itch/ex20101224.TEST_ITCH_50.lenfixed
import struct, sys
def reference(path):
    """(prints, counters, live orders, names by locate) of a BinaryFILE: prints are (ns, price4, shares, kind, locate)."""
    d=open(path,'rb').read()
    p=0; orders={}; prints=[]; names={}; c={k:0 for k in ['unknown_execute','unknown_execute_c','unknown_cancel','unknown_delete','unknown_replace','over_execute','non_printable','cross_zero','broken','adds']}
    def reduce(ref, sh):
        o=orders[ref]
        if sh>=o[0]:
            if sh>o[0]: c['over_execute']+=1
            del orders[ref]
        else: o[0]-=sh
    while p<len(d):
        n=struct.unpack('>H',d[p:p+2])[0]; m=d[p+2:p+2+n]; p+=2+n
        t=chr(m[0]); loc=struct.unpack('>H',m[1:3])[0]; ns=int.from_bytes(m[5:11],'big')
        if t=='R': names[loc]=m[11:19].decode('ascii').rstrip(' ')
        elif t in 'AF':
            ref,side,sh,stock,px=struct.unpack('>QcI8sI',m[11:36]); c['adds']+=1
            orders[ref]=[sh,px,loc,side]
        elif t=='E':
            ref,sh,match=struct.unpack('>QIQ',m[11:31])
            if ref not in orders: c['unknown_execute']+=1; continue
            prints.append((ns,orders[ref][1],sh,'E',loc)); reduce(ref,sh)
        elif t=='C':
            ref,sh,match,pr,px=struct.unpack('>QIQcI',m[11:36])
            if ref in orders: reduce(ref,sh)
            else: c['unknown_execute_c']+=1
            if pr!=b'Y': c['non_printable']+=1; continue
            prints.append((ns,px,sh,'C',loc))
        elif t=='X':
            ref,sh=struct.unpack('>QI',m[11:23])
            if ref in orders: reduce(ref,sh)
            else: c['unknown_cancel']+=1
        elif t=='D':
            ref=struct.unpack('>Q',m[11:19])[0]
            if ref in orders: del orders[ref]
            else: c['unknown_delete']+=1
        elif t=='U':
            o,nw,sh,px=struct.unpack('>QQII',m[11:35])
            side=b' '
            if o in orders: side=orders[o][3]; del orders[o]
            else: c['unknown_replace']+=1
            orders[nw]=[sh,px,loc,side]
        elif t=='P':
            ref,side,sh,stock,px,match=struct.unpack('>QcI8sIQ',m[11:44]); prints.append((ns,px,sh,'P',loc))
        elif t=='Q':
            sh,stock,px,match,ct=struct.unpack('>Q8sIQc',m[11:40])
            if sh==0: c['cross_zero']+=1; continue
            prints.append((ns,px,sh,'Q',loc))
        elif t=='B': c['broken']+=1
    return prints, c, orders, names

if __name__ == '__main__':
    prints, c, orders, names = reference(sys.argv[1])
    from collections import Counter
    print('prints',len(prints), Counter(k for _,_,_,k,_ in prints))
    print('shares',sum(s for _,_,s,_,_ in prints),'notional(px4*sh)',sum(px*s for _,px,s,_,_ in prints))
    for loc in sorted(set(l for *_,l in prints)):
        pl=[x for x in prints if x[4]==loc]
        print('locate',loc,'prints',len(pl),'shares',sum(x[2] for x in pl),'notional',sum(x[1]*x[2] for x in pl),'first',pl[0][:4],'last',pl[-1][:4])
    print('E prints notional', sum(px*s for _,px,s,k,_ in prints if k=='E'), 'E shares', sum(s for _,_,s,k,_ in prints if k=='E'))
    print(c); print('live orders', len(orders))
