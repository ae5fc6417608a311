// NetworkPolicy cases with kube-proxy in iptables mode (K3s's default): ./cases.ts.
import { policyCases } from './cases.js';

policyCases('iptables');
