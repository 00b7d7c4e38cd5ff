import"./chunk-HISXAZ4Y.js";function r(){throw new Error("subscriptions over websockets are not supported by this playground")}export{r as createClient};
